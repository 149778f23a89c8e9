"""Each local lm-eval task loads its shared file and scores hand-made model outputs to the known answer: an
oracle scores 1.0, a constant answer scores chance (computed from the same examples)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from lm_mixup_train.downstream.config import DownstreamConfig, TaskSpec
from lm_mixup_train.downstream.harness import run_task, task_manager
from lm_mixup_train.downstream.registry import render_task
from lm_mixup_train.downstream.tasks import utils

LIMITS = {"gsm8k": 6, "truthfulqa_mc1": 8, "truthfulqa_mc2": 8, "mmlu": 1, "bbh": 1, "tydiqa": 2}


def _oracle_text(task: str, doc: dict[str, Any]) -> str:
    if task == "gsm8k":
        return f"Let me add. The answer is {doc['answer'].split('####')[-1].strip()}."
    if task == "bbh":
        return f"Let's think step by step. So the answer is {doc['target']}."
    return f"{doc['answers'][0]}\nmore text"  # tydiqa: the first line is the answer


def _correct(task: str, doc: dict[str, Any], idx: int) -> bool:
    if task == "mmlu":
        return idx == int(doc["answer"])
    if task == "truthfulqa_mc1":
        return doc["mc1_targets"]["labels"][idx] == 1
    return doc["mc2_targets"]["labels"][idx] == 1


def _fake_lm(task: str, mode: str) -> Any:
    """An lm-eval ``LM`` answering from the documents (``oracle``) or always the same (``constant``)."""
    from lm_eval.api.model import LM

    class HandMade(LM):
        def loglikelihood(self, requests):
            if mode == "oracle":
                return [(0.0 if _correct(task, r.doc, r.idx) else -20.0, True) for r in requests]
            if task == "mmlu":  # always "A"
                return [(0.0 if r.idx == 0 else -20.0, False) for r in requests]
            if task == "truthfulqa_mc1":  # always the shortest answer (first one on ties)
                return [(-float(len(r.arguments[1])), False) for r in requests]
            return [(-1.0, False) for r in requests]  # every choice equally likely

        def loglikelihood_rolling(self, requests):
            raise NotImplementedError

        def generate_until(self, requests):
            if mode == "oracle":
                return [_oracle_text(task, r.doc) for r in requests]
            return ["The answer is 123456789. So the answer is zzz." for _ in requests]

    return HandMade()


def _chance(task: str, rows: list[dict[str, Any]], docs: dict[tuple[str, int], dict[str, Any]]) -> float:
    """Expected score of the constant answer on the evaluated examples."""
    if task in ("gsm8k", "bbh", "tydiqa"):
        return 0.0
    values = []
    for row in rows:
        doc = docs[(row["group"], row["doc_id"])]
        if task == "mmlu":
            values.append(float(int(doc["answer"]) == 0))
        elif task == "truthfulqa_mc1":
            lengths = [len(" " + c) for c in doc["mc1_targets"]["choices"]]
            values.append(float(lengths.index(min(lengths)) == 0))
        else:
            labels = doc["mc2_targets"]["labels"]
            values.append(sum(labels) / len(labels))
    return sum(values) / len(values)


@pytest.mark.parametrize("task", list(LIMITS))
def test_local_task_scores_oracle_and_constant(task: str, eval_dir: Path, gsm8k_file: Path, tmp_path: Path) -> None:
    cfg = DownstreamConfig.from_mapping({"base_model": "unused", "candidates": [{"name": "a", "path": "a"}],
                                         "tasks": [task], "apply_chat_template": False})
    rendered = render_task(task, eval_dir, gsm8k_file, tmp_path / "tasks")
    manager = task_manager(tmp_path / "tasks", include_defaults=False)
    spec = TaskSpec(name=task, limit=LIMITS[task])
    oracle = run_task(_fake_lm(task, "oracle"), spec, rendered, tmp_path / "tasks", cfg, manager)
    groups = {r["group"] for r in oracle}
    assert len(groups) == len(rendered.subtasks)  # every subject / BBH task / language was loaded and scored
    assert len(oracle) == LIMITS[task] * len(rendered.subtasks)
    assert all(r["score"] == pytest.approx(1.0) for r in oracle)

    constant = run_task(_fake_lm(task, "constant"), spec, rendered, tmp_path / "tasks", cfg, manager)
    docs = _documents(manager, rendered.subtasks)
    mean = sum(r["score"] for r in constant) / len(constant)
    assert mean == pytest.approx(_chance(task, constant, docs), abs=1e-6)
    assert mean < 1.0


def _documents(manager: Any, subtasks: list[str]) -> dict[tuple[str, int], dict[str, Any]]:
    from lm_eval.tasks import get_task_dict

    docs: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    for name, task in get_task_dict(subtasks, manager).items():
        for i, doc in enumerate(task.test_docs()):
            docs[(name if isinstance(name, str) else name.group_name, i)] = doc
    return docs


def test_scoring_helpers() -> None:
    assert utils.gsm8k_prediction("so 3 + 4 = 7. The answer is 1,234.") == 1234
    assert utils.gsm8k_prediction("I think it is 12 or maybe 13") == 13
    assert utils.gsm8k_gold("work <<2*3=6>> 6\n#### 6") == 6
    assert utils.bbh_prediction("Let's think. So the answer is (B). Then") == "(B)"
    assert utils.normalize_em("(B)") == utils.normalize_em("b")
    assert utils.squad_scores("the Eiffel Tower", ["Eiffel Tower"]) == (1.0, 1.0)
    f1, em = utils.squad_scores("Paris France", ["Paris"])
    assert f1 == pytest.approx(2 / 3) and em == 0.0
