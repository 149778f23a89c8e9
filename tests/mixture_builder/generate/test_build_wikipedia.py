"""End-to-end builds over real Wikipedia articles with a scripted OpenAI-compatible teacher (a real HTTP
server on 127.0.0.1): the dataset's structure, resuming after a SIGKILL, and publishing to a local Hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.pipeline import build_mixture
from mixture_builder.mixture_format import MIXTURE_FIELDS, TASK_TYPES, linearise, matches_task_pattern
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.generate._fixtures_build import scripted_teacher

GOOD_ARTICLES = "wikipedia/enwiki-good-2019-ag-gipp/text"


def build_yaml(raw_dir: Path, out: Path, base_url: str, cache: Path, *, tasks: int = 3, limit: int = 2) -> dict:
    return {
        "output": str(out),
        "sources": [{"path": str(raw_dir / GOOD_ARTICLES), "format": "wikiextractor", "limit": limit}],
        "segments_per_document": 2,
        "teacher": {"backend": "openai", "base_url": base_url, "model": "scripted-teacher",
                    "cache_path": str(cache), "max_retries": 1, "progress": False},
        "executor": {"kind": "local", "tasks": tasks, "workers": 1},
    }


def load_records(folder: Path | str) -> dict[str, dict[str, list[dict]]]:
    from datasets import load_dataset

    out = {}
    for config in ("sft", "grpo"):
        dataset = load_dataset(str(folder), config)
        out[config] = {split: dataset[split].to_list() for split in dataset}
    return out


@pytest.fixture(scope="module")
def wiki_build(raw_dir, tmp_path_factory):
    """One build (3 tasks × 2 articles × 2 segments × 5 task types) shared by the structure and push tests."""
    root = tmp_path_factory.mktemp("wiki_build")
    with FakeOpenAIServer(scripted_teacher) as server:
        data = build_yaml(raw_dir, root / "out", server.base_url, root / "cache.sqlite")
        config = BuildConfig.from_dict(data)
        result = build_mixture(config)
        yield config, result, len(server.requests)


def test_wikipedia_build_has_the_mixture_structure(wiki_build):
    _, result, n_requests = wiki_build
    records = load_records(result.output)
    assert n_requests > 0
    targets = {}
    for name, splits in records.items():
        assert set(splits) == {"train", "test"}
        task_types = {row["task_type"] for rows in splits.values() for row in rows}
        assert task_types == set(TASK_TYPES)
        for split, rows in splits.items():
            assert rows, (name, split)
            for row in rows:
                assert set(row) == set(MIXTURE_FIELDS)
                assert 2 <= len(row["inputs"]) <= 20
                assert row["input"] == linearise(row["inputs"])
                assert matches_task_pattern(row["task_type"], row["output"])
                assert row["cot"] and row["quality"] >= 4 and "cc-by-sa-3.0" in row["license"]
                assert row["teacher"].startswith("scripted-teacher (write_")
                assert row["output"] not in targets, "a target in two splits"
                targets[row["output"]] = (name, split)
    n_sft = sum(1 for cell in targets.values() if cell[0] == "sft")
    assert 0.2 < n_sft / len(targets) < 0.45  # 30% (rounded per task; every split gets one per task)

    stats = result.stats
    stages = stats["stages"]
    assert stages["read"]["out"] == 6 and stages["keep segments"]["out"] == 12
    assert stages["write samples"]["in"] == 12 and stages["write samples"]["out"] == 60
    assert stages["quality filter"]["dropped"].get("low_quality", 0) > 0  # the scripted rater rates some low
    assert stages["assemble"]["in"] == stages["quality filter"]["out"]
    assert stages["assemble"]["out"] == len(targets) == stages["assemble"]["in"] - sum(
        stages["assemble"]["dropped"].values())
    assert stats["teacher_usage"]["requests"] == n_requests
    assert stats["cross_topic_inputs"] > 0
    assert (result.output / "README.md").read_text().count("MIXTURE")
    assert not any(p.name.startswith(".lm-mixup") for p in (result.output / "data_sft").iterdir())


def test_push_then_load_from_the_local_hub(wiki_build, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import HfApi

    from hub.testing import local_hub

    config, result, _ = wiki_build
    with local_hub(tmp_path / "hub"):
        pushed = build_mixture(BuildConfig.from_dict({**config.to_dict(), "teacher": config.teacher.to_dict(),
                                                      "rater": None, "push_to": "lm-mixup/mixture-test"}))
        assert pushed.pushed_to == "lm-mixup/mixture-test"
        files = HfApi().list_repo_files("lm-mixup/mixture-test", repo_type="dataset")
        assert "README.md" in files and "stats.json" in files
        assert not any(f.startswith(".lm-mixup") for f in files)
        sft = load_dataset("lm-mixup/mixture-test", "sft")
        local = load_records(result.output)["sft"]
        assert sorted(sft["train"]["id"]) == sorted(row["id"] for row in local["train"])


def test_dry_run_estimates_calls_without_calling(raw_dir, tmp_path, capsys):
    from mixture_builder.generate.run import print_plan

    with FakeOpenAIServer(scripted_teacher) as server:
        data = build_yaml(raw_dir, tmp_path / "out", server.base_url, tmp_path / "cache.sqlite", tasks=1)
        data["teacher"]["prices"] = {"input": 0.15, "output": 0.6}
        plan = print_plan(BuildConfig.from_dict(data))
        assert not server.requests
    assert plan.segments == 4 and plan.stages["write"].calls == 20
    assert plan.stages["rate"].calls == 20 and plan.stages["degrade"].calls == 40
    text = capsys.readouterr().out
    assert "write" in text and "$" in text and str(tmp_path / "out") in text


def _records_by_id(folder: Path) -> dict[str, dict]:
    rows = [row for splits in load_records(folder).values() for rows in splits.values() for row in rows]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "duplicate records"
    return {row["id"]: row for row in rows}


@pytest.mark.slow
def test_killed_build_resumes_without_duplicates_or_losses(raw_dir, tmp_path, wiki_build):
    """SIGKILL a build mid-run; the rerun completes and gives exactly the records of an uninterrupted build
    (``wiki_build``: same config, its own server and cache)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mixture_builder.cli", "build", "--config"]
    with FakeOpenAIServer(scripted_teacher, latency=0.01) as server:
        killed = tmp_path / "killed.yaml"
        killed.write_text(yaml.safe_dump(build_yaml(raw_dir, tmp_path / "out", server.base_url, tmp_path / "c.sqlite")))
        process = subprocess.Popen([*command, str(killed)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while len(server.requests) < 90 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the build ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # the build and any process it forked
        process.wait()
        done = list((tmp_path / "out" / ".lm-mixup" / "logs" / "samples" / "completions").glob("*"))
        assert len(done) < 3 and not (tmp_path / "out" / "stats.json").exists()
        before = len(server.requests)

        resumed = subprocess.run([*command, str(killed)], env=env, capture_output=True, text=True, timeout=300,
                                 check=False)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert "MIXTURE written to" in resumed.stdout and 'load_dataset("' in resumed.stdout
        resume_requests = len(server.requests) - before
    # the rerun asked only for what the killed run had not got answered (its cache held the rest)
    assert 0 < resume_requests < wiki_build[2]
    assert _records_by_id(tmp_path / "out") == _records_by_id(wiki_build[1].output)
