"""`lm-mixup evaluate distiller`: metrics on hand-made completions with known outcomes, figures that recompute
from eval.json, a teacher over the fake OpenAI server (baselines, outputs, resume after a kill)."""

from __future__ import annotations

import json

import pytest

from lm_mixup_train.evaluate import EvalConfig, EvalReport, evaluate_distiller, rescore
from lm_mixup_train.evaluate.distiller import score_systems
from lm_mixup_train.evaluate.generation import baseline_completions
from lm_mixup_train.evaluate.metrics import Scorers
from mixture_builder.errors import ConfigError
from mixture_builder.mixture_format import format_completion
from mixture_builder.teacher.testing import FakeOpenAIServer, last_user_message

from ._tiny import _samples


def records_by_task() -> list[dict]:
    """One toy record per task type (qa, mcq, tfq, cs, para)."""
    rows = _samples()
    return [rows[i] for i in range(5)]


def test_hand_made_completions_give_known_format_and_alignment(tmp_path, quality_library_path) -> None:
    records = records_by_task()
    perfect = [{"id": r["id"], "text": format_completion("merge", r["output"]), "finish_reason": "stop",
                "error": None} for r in records]
    # qa: the right tags, but the answer is not 'Q: … A: …'; mcq: text outside the tags; tfq: truncated;
    # cs: the request failed; para: perfect
    flawed = [
        {"id": "toy-0", "text": "<think>x</think><answer>rivers are long</answer>", "finish_reason": "stop", "error": None},
        {"id": "toy-1", "text": "Sure! <think>x</think><answer>Q: a A) b B) c C) d D) e Answer: A</answer>",
         "finish_reason": "stop", "error": None},
        {"id": "toy-2", "text": "<think>I think the", "finish_reason": "length", "error": None},
        {"id": "toy-3", "text": None, "finish_reason": None, "error": "HTTP 500"},
        perfect[4],
    ]
    scorers = Scorers(quality_library=str(quality_library_path))
    report = score_systems(records, {"perfect": perfect, "flawed": flawed}, scorers,
                           {"dataset": "toy", "dataset_config": "sft", "split": "test", "distiller_name": "perfect"})
    good = report.systems["perfect"]["overall"]
    assert good["parsed"] == good["format"] == good["format_structure"] == good["format_pattern"] == 1.0
    assert good["alignment_mean"] == pytest.approx(1.0, abs=1e-3) and good["alignment_share"] == 1.0
    bad = report.systems["flawed"]["overall"]
    assert bad["failures"] == {"request_failed": 1, "truncated": 1, "bad_format": 1}
    assert bad["parsed"] == 0.4  # qa (wrong pattern still parses) and para
    assert bad["format_structure"] == 0.4 and bad["format_pattern"] == 0.2 and bad["format"] == 0.3
    assert bad["alignment_share"] == 0.2  # only para is the reference itself
    per_task = report.systems["flawed"]["per_task"]
    assert per_task["qa"]["format"] == 0.5 and per_task["mcq"]["format"] == 0.0 and per_task["para"]["format"] == 1.0
    assert 0.0 < per_task["qa"]["alignment_mean"] < 1.0 and per_task["mcq"]["alignment_mean"] == 0.0
    metrics = {r["id"]: r["completions"]["flawed"]["metrics"] for r in report.records}
    assert metrics["toy-0"]["failure"] is None and metrics["toy-1"]["failure"] == "bad_format"
    assert metrics["toy-3"]["quality"] == 0.0 and metrics["toy-3"]["quality_score"] is None
    for name in ("perfect", "flawed"):  # quality: mean of the per-record rewards (0 for unparsed)
        rewards = [r["completions"][name]["metrics"]["quality"] for r in report.records]
        assert report.systems[name]["overall"]["quality"] == pytest.approx(sum(rewards) / 5, abs=1e-4)

    report.write(tmp_path / "out")
    again = rescore(tmp_path / "out" / "eval.json")
    assert again.systems == report.systems
    saved = EvalReport.load(tmp_path / "out")
    assert saved.systems == report.systems and saved.records[2]["completions"]["flawed"]["finish_reason"] == "length"


def test_baselines_pick_an_input_item() -> None:
    records = records_by_task()
    longest = baseline_completions(records, "longest_input")
    first = baseline_completions(records, "first_input")
    for record, a, b in zip(records, longest, first):
        assert a["text"] == format_completion("", max(record["inputs"], key=len))
        assert b["text"] == format_completion("", record["inputs"][0])
    assert baseline_completions([{**records[0], "inputs": []}], "first_input")[0]["error"] == "no input items"


def oracle(records: list[dict]):
    """A fake teacher that answers the reference for the first half of the records, garbage for the rest."""
    answers = {r["input"]: format_completion("merge", r["output"]) for r in records[: len(records) // 2]}

    def respond(request: dict) -> str:
        prompt = last_user_message(request)
        for cluster, answer in answers.items():
            if cluster in prompt:
                return answer
        return "I cannot help with that."

    return respond


def teacher_config(tmp_path, server, mixture_dir, library, **extra) -> EvalConfig:
    teacher = {"backend": "openai", "base_url": server.base_url, "model": "fake-model", "progress": False,
               "max_retries": 0, "cache_path": str(tmp_path / "cache.sqlite")}
    values = {"dataset": str(mixture_dir), "dataset_config": "sft", "output": str(tmp_path / "ev"),
              "distiller": {"teacher": teacher, "max_new_tokens": 64}, "quality_library": str(library)}
    return EvalConfig.from_dict({**values, **extra})


def test_teacher_evaluation_writes_outputs_and_resumes(tmp_path, mixture_dir, quality_library_path) -> None:
    from lm_mixup_train.evaluate.distiller import load_records

    records = load_records(EvalConfig(dataset=str(mixture_dir), quality_reward="none"))
    with FakeOpenAIServer(oracle(records)) as server:
        config = teacher_config(tmp_path, server, mixture_dir, quality_library_path, use_cache=False)
        report = evaluate_distiller(config)
        assert len(server.requests) == len(records) == 4
        hint = last_user_message(server.requests[0])
        assert "<answer>" in hint and "Reply in exactly this form" in hint
        assert list(report.systems) == ["fake-model", "longest_input", "first_input"]
        fake = report.systems["fake-model"]["overall"]
        assert fake["parsed"] == 0.5 and fake["alignment_share"] == 0.5 and fake["failures"] == {"bad_format": 2}
        out = tmp_path / "ev"
        assert {"eval.json", "results.md", "eval.png"} <= {p.name for p in out.iterdir()}
        table = (out / "results.md").read_text()
        assert "| fake-model |" in table and "| longest_input |" in table and "| first_input |" in table
        assert report.meta["generation"]["kind"] == "teacher" and report.meta["generation"]["guidance"] == "off"

        # a rerun finds every completion saved: no request is sent again (the cache is off)
        evaluate_distiller(config)
        assert len(server.requests) == 4
        # a run killed after one record, mid-write of the next: only the missing records are requested
        completions = out / ".lm-mixup" / "completions.jsonl"
        first = completions.read_text().splitlines()[0]
        completions.write_text(first + "\n" + '{"id": "toy-1', encoding="utf-8")
        resumed = evaluate_distiller(config)
        assert len(server.requests) == 4 + 3
        assert resumed.systems == report.systems

        # with the teacher cache on, a fresh output folder is answered from the cache
        cached = {"use_cache": True, "output": str(tmp_path / "ev_cached")}
        evaluate_distiller(teacher_config(tmp_path, server, mixture_dir, quality_library_path, **cached))
        sent = len(server.requests)
        cached["output"] = str(tmp_path / "ev_cached2")
        evaluate_distiller(teacher_config(tmp_path, server, mixture_dir, quality_library_path, **cached))
        assert len(server.requests) == sent

        # other generation settings into the same output are refused
        with pytest.raises(ConfigError, match="other settings"):
            evaluate_distiller(teacher_config(tmp_path, server, mixture_dir, quality_library_path,
                                              use_cache=False, distiller={"max_new_tokens": 8}))


def test_config_errors(tmp_path, mixture_dir) -> None:
    with pytest.raises(ConfigError, match="quality_library"):
        EvalConfig(dataset=str(mixture_dir))
    with pytest.raises(ConfigError, match="checkpoint"):
        EvalConfig(dataset=str(mixture_dir), quality_reward="none", card=True)
    with pytest.raises(ConfigError, match="unknown option"):
        EvalConfig.from_dict({"dataset": "x", "quality_reward": "none", "distiller": {"chekpoint": "m"}})
    path = tmp_path / "eval.yaml"
    path.write_text(json.dumps({"dataset": str(mixture_dir), "quality_reward": "none", "limit": 2}))
    config = EvalConfig.from_yaml(path, {"distiller.checkpoint": "some/model", "output": "o"})
    assert config.distiller.checkpoint == "some/model" and config.limit == 2 and config.output == "o"
