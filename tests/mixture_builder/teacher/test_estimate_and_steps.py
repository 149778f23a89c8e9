"""Dry-run estimates, and TeacherStep inside datatrove executors (pickled, several processes, one cache)."""

from __future__ import annotations

import json

import pytest
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.records import make_instruction
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.estimate import estimate
from mixture_builder.teacher.rater import QualityRater
from mixture_builder.teacher.types import ChatRequest


def ask(*prompts: str) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": p}]) for p in prompts]


def test_estimate_counts_calls_tokens_cost_and_cache(serve, make_config):
    server = serve(lambda r: "ok")
    config = make_config(server, max_tokens=100, prices={"input": 1.0, "output": 4.0})
    requests = ask("a" * 400, "b" * 40, "a" * 400, "c")
    before = estimate(requests, config)
    assert (before.requests, before.calls, before.cached) == (4, 3, 0)
    assert before.prompt_tokens == (100 + 4) + (10 + 4) + (0 + 4)
    assert before.completion_tokens == 300
    assert before.cost_usd == pytest.approx((122 * 1.0 + 300 * 4.0) / 1e6)
    assert server.requests == []  # nothing was sent
    with Teacher.from_config(config) as teacher:
        teacher.generate(requests[:2])
    after = estimate(requests, config, completion_tokens=10)
    assert (after.calls, after.cached, after.completion_tokens) == (1, 2, 10)
    assert estimate(requests, make_config(server, prices=None)).cost_usd is None


def test_estimate_through_a_step(serve, make_config):
    server = serve(lambda r: "ok")
    docs = [make_instruction(instruction=f"q{i}", output="a", source="s", license="l", source_id=i)
            for i in range(5)]
    rater = QualityRater(make_config(server))
    result = estimate(docs, rater.teacher_config, step=rater)
    assert result.calls == 5 and result.completion_tokens == 5 * rater.max_tokens
    assert server.requests == []


def test_rater_in_a_multiprocess_executor_shares_one_cache(serve, make_config, tmp_path):
    rating = json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": 8})
    server = serve(lambda r: rating, latency=0.01)
    config = make_config(server)

    def run(logs: str) -> list[dict]:
        docs = [make_instruction(instruction=f"Question {i}?", output=f"Answer {i}", source="s", license="l",
                                 source_id=i) for i in range(24)]
        shards = [docs[i::2] for i in range(2)]

        from datatrove.pipeline.base import PipelineStep

        class ShardReader(PipelineStep):
            name = "shards"
            type = "reader"

            def __init__(self, shards):
                super().__init__()
                self.shards = shards

            def run(self, data, rank=0, world_size=1):
                yield from self.shards[rank]

        out = tmp_path / f"out-{logs}"
        LocalPipelineExecutor(
            pipeline=[ShardReader(shards), QualityRater(config), JsonlWriter(str(out), compression=None)],
            tasks=2, workers=2, logging_dir=str(tmp_path / logs), start_method="fork",
        ).run()
        return [json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.open()]

    first = run("logs1")
    assert len(first) == 24 and {d["metadata"]["quality"] for d in first} == {4}
    assert len(server.requests) == 24
    stats = json.loads((tmp_path / "logs1" / "stats.json").read_text())
    rater_stats = next(s for s in stats if "quality rater" in s["name"])["stats"]
    assert rater_stats["teacher_requests"]["total"] == 24 and rater_stats["documents"] == 24
    second = run("logs2")  # a fresh run over the same data: everything comes from the shared cache
    assert len(second) == 24 and len(server.requests) == 24
