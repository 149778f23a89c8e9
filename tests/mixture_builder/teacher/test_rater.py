"""The quality rater and filter over HTTP: scores, details, task hints, parse failures (repair, drop, keep)."""

from __future__ import annotations

import json

import pytest
from datatrove.data import Document

from mixture_builder.mixture_format import TASK_TYPES
from mixture_builder.records import make_instruction
from mixture_builder.teacher.rater import QualityFilter, QualityRater, compress_score
from mixture_builder.teacher.testing import last_user_message


@pytest.mark.parametrize("overall, score", [(1, 0), (4, 0), (5, 1), (7, 3), (8, 4), (9, 5), (10, 5), (8.6, 5)])
def test_compress_score(overall, score):
    assert compress_score(overall) == score


def rating(overall: int) -> str:
    return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 6, "overall": overall})


def samples(n: int) -> list[Document]:
    return [make_instruction(instruction=f"Question {i}?", output=f"Answer {i}.", source="unit", license="cc0",
                             source_id=i) for i in range(n)]


def scripted(request) -> str:
    """overall = 3 + the sample number; sample 4 answers prose once (then repaired), sample 5 never parses."""
    prompt = last_user_message(request)
    if "could not be used" in prompt:
        return "still no json" if "Question 5?" in json.dumps(request["messages"]) else rating(9)
    number = int(prompt.split("Question ")[1].split("?")[0])
    return {4: "It is a fine sample.", 5: "no idea"}.get(number, rating(3 + number))


def test_rater_writes_scores_and_counts(serve, make_config):
    server = serve(scripted)
    rater = QualityRater(make_config(server), on_parse_error="drop")
    out = {doc.id: doc for doc in rater.run(samples(6))}
    assert sorted(out) == ["unit/0", "unit/1", "unit/2", "unit/3", "unit/4"]
    assert [out[f"unit/{i}"].metadata["quality"] for i in range(5)] == [0, 0, 1, 2, 5]
    assert out["unit/3"].metadata["quality_details"] == {"rarity": 5, "complexity": 5, "informativeness": 6,
                                                          "overall": 6}
    assert out["unit/0"].metadata["quality_rater"] == "fake-model|rate_quality@1"
    stats = rater.stats.to_dict()["stats"]
    counts = {k: (v["total"] if isinstance(v, dict) else v) for k, v in stats.items()}
    assert counts["dropped_rate_parse_error"] == 1
    assert counts["teacher_repairs"] == 2 and counts["teacher_repaired_ok"] == 1
    assert counts["teacher_requests"] == 6 + 2
    assert len(server.requests) == 8


def test_rater_keeps_unrated_when_configured(serve, make_config):
    server = serve(scripted)
    rater = QualityRater(make_config(server), on_parse_error="keep")
    out = {doc.id: doc for doc in rater.run(samples(6))}
    assert len(out) == 6
    unrated = out["unit/5"].metadata
    assert unrated["quality"] is None and unrated["quality_raw"] == "no idea"
    assert unrated["quality_error"] == "no JSON object in the reply"
    kept = list(QualityFilter(threshold=1, keep_unrated=True).run(list(out.values())))
    assert {d.id for d in kept} == {"unit/2", "unit/3", "unit/4", "unit/5"}
    quality_filter = QualityFilter(threshold=4)
    assert [d.id for d in quality_filter.run(list(out.values()))] == ["unit/4"]
    counts = quality_filter.stats.to_dict()["stats"]
    assert counts["dropped_low_quality"] == 4 and counts["dropped_unrated"] == 1


def test_teacher_failure_is_dropped_with_a_count(serve, make_config):
    from mixture_builder.teacher.testing import Fault

    server = serve(lambda r: Fault.error(503))
    rater = QualityRater(make_config(server, max_retries=1))
    assert list(rater.run(samples(2))) == []
    assert rater.stats.to_dict()["stats"]["dropped_rate_teacher_error"] == 2


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_mixture_targets_get_their_task_hint(serve, make_config, task_type):
    server = serve(lambda r: rating(8))
    doc = Document(text="Q: What is the capital of France? A: Paris.", id="m1",
                   metadata={"task_type": task_type, "instruction": "Merge the samples.", "output": "Q: x A: y"})
    (out,) = QualityRater(make_config(server)).run([doc])
    assert out.metadata["quality"] == 4
    prompt = last_user_message(server.requests[0])
    expected = {"qa_mixup": "question-answer", "mcq_mixup": "multiple-choice", "tfq_mixup": "true/false",
                "cs_mixup": "category-statement", "para_mixup": "paragraph"}[task_type]
    assert expected in prompt


def test_plain_text_documents_are_rated_on_their_text_when_asked(serve, make_config):
    server = serve(lambda r: rating(7))
    (out,) = QualityRater(make_config(server), text_only=True).run([Document(text="Owls are nocturnal birds.", id="p")])
    assert out.metadata["quality"] == 3
    assert "Owls are nocturnal birds." in last_user_message(server.requests[0])


def test_threshold_is_validated():
    from mixture_builder.errors import ConfigError

    with pytest.raises(ConfigError, match="threshold"):
        QualityFilter(threshold=7)


def test_real_alpaca_records(serve, make_config, raw_dir):
    from mixture_builder.readers import read_records

    def responder(request):  # overall derived from the response the prompt shows
        response = last_user_message(request).split("### Response\n", 1)[1].split("\n\nAnswer with only")[0]
        return rating(1 + len(response) % 10)

    server = serve(responder)
    docs = list(read_records(str(raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json"), limit=20))
    rated = list(QualityRater(make_config(server)).run(docs))
    assert len(rated) == 20 and len(server.requests) == 20
    prompts = [last_user_message(request) for request in server.requests]  # sent concurrently: any order
    for doc in rated:
        meta = doc.metadata
        expected = f"### Instruction\n{meta['instruction'].strip()}\n"
        if meta["input"]:
            expected += f"\n### Input\n{meta['input'].strip()}\n"
        expected += f"\n### Response\n{meta['output'].strip()}\n"
        assert sum(expected in prompt for prompt in prompts) == 1, expected
        assert doc.metadata["quality"] == compress_score(1 + len(doc.metadata["output"].strip()) % 10)
