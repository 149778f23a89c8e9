"""A candidate whose rows overlap a benchmark test set is refused with the overlap count; a clean one passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lm_mixup_train.downstream.candidates import load_candidate
from lm_mixup_train.downstream.config import CandidateSpec, DecontSettings
from lm_mixup_train.downstream.decontam import check_candidate
from mixture_builder.errors import InputError

CLEAN = [{"instruction": f"Name a colour number {i}.", "input": "", "output": "Blue is a colour."} for i in range(5)]


def _candidate(tmp_path: Path, rows: list[dict], name: str) -> object:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_candidate(CandidateSpec(name=name, path=str(path)))


def test_contaminated_candidate_is_refused(tmp_path: Path, gsm8k_file: Path) -> None:
    leaked = [json.loads(line) for line in gsm8k_file.read_text().splitlines()[:2]]
    rows = CLEAN + [{"instruction": r["question"], "input": "", "output": r["answer"]} for r in leaked]
    data = _candidate(tmp_path, rows, "leaky")
    with pytest.raises(InputError) as info:
        check_candidate(data, {"gsm8k": [gsm8k_file]}, tmp_path / "work", DecontSettings())
    message = str(info.value)
    assert "2 training rows share 12-grams" in message and "gsm8k 2" in message and "leaky" in message
    assert "\n" not in message


def test_clean_candidate_passes_and_reports_zero(tmp_path: Path, gsm8k_file: Path) -> None:
    data = _candidate(tmp_path, CLEAN, "clean")
    assert check_candidate(data, {"gsm8k": [gsm8k_file]}, tmp_path / "work", DecontSettings()) == {}
    leaky = _candidate(tmp_path, CLEAN + [{"instruction": json.loads(gsm8k_file.read_text().splitlines()[0])["question"],
                                           "output": "x"}], "tolerated")
    counts = check_candidate(leaky, {"gsm8k": [gsm8k_file]}, tmp_path / "work", DecontSettings(max_overlap=1))
    assert counts == {"gsm8k": 1}
