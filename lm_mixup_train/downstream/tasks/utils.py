"""Prompt and scoring functions of the local lm-eval tasks (referenced from the task YAML as ``!function``).

Scoring follows the reference evaluation (open-instruct / LESS) and is computed here, offline: nothing loads a
metric from the Hub. Every ``process_results`` returns the per-example score lm-eval logs with
``log_samples=True``, which the bootstrap intervals are computed from. Only the standard library is used, so
the file can sit beside the rendered YAML in a run folder.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections import Counter
from typing import Any

# ---------------------------------------------------------------------------------------------- scoring helpers

_NUMBER = re.compile(r"-?[$0-9.,]*[0-9]")
_GSM_ANSWER = re.compile(r"[Tt]he answer is:?\s*\$?(-?[0-9][0-9.,]*)")
_BBH_ANSWER = re.compile(r"So the answer is (.*?)\.(?:\s|$)")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def to_number(text: str) -> float | None:
    """``"1,234.50"``/``"$12"``/``"7."`` → the float, else ``None``."""
    cleaned = text.replace(",", "").replace("$", "").rstrip(".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def gsm8k_prediction(completion: str) -> float | None:
    """The model's final number: after "The answer is", else the last number in the completion."""
    match = _GSM_ANSWER.search(completion)
    if match:
        return to_number(match.group(1))
    numbers = _NUMBER.findall(completion)
    return to_number(numbers[-1]) if numbers else None


def gsm8k_gold(answer: str) -> float | None:
    """The gold number after ``####`` in a GSM8K answer."""
    return to_number(answer.split("####")[-1].strip())


def normalize_em(text: str) -> str:
    """HF ``exact_match`` with ``ignore_case`` and ``ignore_punctuation``: lower-case, punctuation removed."""
    return text.lower().translate(str.maketrans("", "", string.punctuation)).strip()


def bbh_prediction(completion: str) -> str:
    """open-instruct's BBH extraction: the first "So the answer is X." else the first paragraph."""
    match = _BBH_ANSWER.search(completion)
    return match.group(1) if match else completion.strip().split("\n\n")[0]


def normalize_squad(text: str) -> str:
    """SQuAD v1.1 answer normalisation: lower-case, no punctuation, no English articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def squad_f1(prediction: str, gold: str) -> float:
    """Token-level F1 of SQuAD v1.1."""
    pred, ref = normalize_squad(prediction).split(), normalize_squad(gold).split()
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def squad_scores(prediction: str, golds: list[str]) -> tuple[float, float]:
    """``(f1, exact_match)``, each the max over the reference answers (SQuAD v1.1)."""
    f1 = max(squad_f1(prediction, g) for g in golds)
    em = max(float(normalize_squad(prediction) == normalize_squad(g)) for g in golds)
    return f1, em


# ---------------------------------------------------------------------------------------------------- GSM8K


def gsm8k_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Exact match of the final number (numeric comparison)."""
    pred, gold = gsm8k_prediction(results[0]), gsm8k_gold(doc["answer"])
    return {"exact_match": float(pred is not None and gold is not None and math.isclose(pred, gold))}


# ------------------------------------------------------------------------------------------------------ BBH


def bbh_process_docs(dataset: Any) -> Any:
    """The task's examples in a fixed random order (seed 42), so ``limit: 40`` is a seeded sample of 40."""
    order = list(range(len(dataset)))
    random.Random(42).shuffle(order)
    return dataset.select(order)


def bbh_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Exact match (case and punctuation ignored) of the extracted answer against ``target``."""
    return {"exact_match": float(normalize_em(bbh_prediction(results[0])) == normalize_em(doc["target"]))}


# ----------------------------------------------------------------------------------------------- TruthfulQA


def _answers(cell: Any) -> list[str]:
    return [a.strip() for a in str(cell or "").split(";") if a.strip()]


def truthfulqa_process_docs(dataset: Any) -> Any:
    """``TruthfulQA.csv`` rows → MC1 (best answer vs incorrect answers) and MC2 (correct vs incorrect) targets."""

    def build(row: dict[str, Any]) -> dict[str, Any]:
        best, correct, wrong = str(row["Best Answer"]).strip(), _answers(row["Correct Answers"]), _answers(
            row["Incorrect Answers"])
        return {
            "question": str(row["Question"]).strip(),
            "mc1_targets": {"choices": [best, *wrong], "labels": [1] + [0] * len(wrong)},
            "mc2_targets": {"choices": [*correct, *wrong], "labels": [1] * len(correct) + [0] * len(wrong)},
        }

    return dataset.map(build, remove_columns=dataset.column_names)


def truthfulqa_mc2_process_results(doc: dict[str, Any], results: list[tuple[float, bool]]) -> dict[str, float]:
    """MC2: normalised probability mass of the true answers."""
    lls = [ll for ll, _ in results]
    top = max(lls)
    probs = [math.exp(ll - top) for ll in lls]
    total = sum(probs)
    true_mass = sum(p for p, label in zip(probs, doc["mc2_targets"]["labels"]) if label == 1)
    return {"acc": true_mass / total}


# --------------------------------------------------------------------------------------------------- TyDiQA


def tydiqa_process_docs(dataset: Any) -> Any:
    """SQuAD-style articles → one row per question: ``id``, ``context``, ``question``, ``answers`` (texts)."""

    def flatten(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"id": [], "context": [], "question": [], "answers": []}
        for paragraphs in batch["paragraphs"]:
            for paragraph in paragraphs:
                for qa in paragraph["qas"]:
                    out["id"].append(qa["id"])
                    out["context"].append(paragraph["context"])
                    out["question"].append(qa["question"])
                    out["answers"].append([a["text"] for a in qa["answers"]])
        return out

    return dataset.map(flatten, batched=True, remove_columns=dataset.column_names)


def tydiqa_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """SQuAD v1.1 F1 and exact match of the first line of the completion."""
    prediction = results[0].strip().split("\n")[0]
    f1, em = squad_scores(prediction, list(doc["answers"]))
    return {"f1": f1, "exact_match": em}
