"""End to end with the ~1M-parameter model: LoRA per candidate, lm-eval on a local task, held-out NLL,
results.json, the card section; a rerun redoes nothing and a changed task setting redoes only that task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
from dataset_cards.layout import write_dataset_folder
from dataset_cards.regenerate import regenerate_card
from lm_mixup_train.downstream.candidates import load_candidate
from lm_mixup_train.downstream.config import CandidateSpec, DownstreamConfig
from lm_mixup_train.downstream.heldout import heldout_keys, load_heldout
from lm_mixup_train.downstream.run import run_downstream

HELDOUT = [{"instruction": f"Describe the castle number {i}.", "input": "", "output": f"The castle {i} is old and large."}
           for i in range(4)]


def _rows(tag: str, n: int) -> list[dict]:
    return [{"instruction": f"Tell me about the {tag} river {i}.", "input": "", "output": f"The {tag} river {i} is long."}
            for i in range(n)]


@pytest.fixture()
def setup(tmp_path: Path, tiny_model_dir: Path, eval_dir: Path) -> dict:
    folder = tmp_path / "distilled"
    write_dataset_folder(folder, {"default": {"train": _rows("blue", 6) + [HELDOUT[0]]}})
    write_dataset_card(folder, DatasetCardInfo(pretty_name="Toy distilled", kind="distilled"))
    plain = tmp_path / "random.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in _rows("green", 6)))
    held = tmp_path / "heldout.jsonl"
    held.write_text("".join(json.dumps(r) + "\n" for r in HELDOUT))
    config = {
        "base_model": str(tiny_model_dir), "output": str(tmp_path / "ab"), "device": "cpu",
        "candidates": [{"name": "distilled", "path": str(folder)}, {"name": "random", "path": str(plain)}],
        "tasks": [{"name": "truthfulqa_mc1", "limit": 3}, "heldout_nll"],
        "eval_data_dir": str(eval_dir), "heldout": {"path": str(held), "n": 4, "max_length": 128},
        "lora": {"r": 4, "alpha": 8}, "training": {"max_steps": 2, "max_length": 128, "gradient_accumulation_steps": 1,
                                                    "per_device_train_batch_size": 2},
        "bootstrap_samples": 200, "eval_batch_size": 4,
    }
    return {"config": config, "folder": folder, "held": held}


def _mtimes(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in (out / "units").rglob("*.json")}


def test_ab_end_to_end_resume_and_card(setup: dict) -> None:
    cfg = DownstreamConfig.from_mapping(setup["config"])
    summary = run_downstream(cfg)
    out = cfg.output_dir
    saved = json.loads((out / "results.json").read_text())
    for cand in ("distilled", "random"):
        for task in ("truthfulqa_mc1", "heldout_nll"):
            entry = saved["results"][cand][task]
            assert entry["ci"][0] <= entry["value"] <= entry["ci"][1]
        assert saved["results"][cand]["truthfulqa_mc1"]["n"] == 3
        assert saved["results"][cand]["heldout_nll"]["n"] == 4
    assert saved["candidates"]["distilled"]["skipped"] == {"heldout_overlap": 1}  # excluded by the job
    assert set(saved["differences"]) == {"random"} and (out / "results.png").is_file()

    card = (setup["folder"] / "README.md").read_text()
    assert "## Evaluation" in card and "| distilled |" in card
    regenerate_card(setup["folder"])  # `lm-mixup card DIR` keeps the section
    assert (setup["folder"] / "README.md").read_text().count("## Evaluation") == 1

    before = _mtimes(out)
    again = run_downstream(cfg)
    assert _mtimes(out) == before and again["results"] == summary["results"]

    setup["config"]["tasks"][0]["limit"] = 4
    changed = run_downstream(DownstreamConfig.from_mapping(setup["config"]))
    after = _mtimes(out)
    redone = {k for k in after if after[k] != before[k]}
    assert redone == {"units/distilled/truthfulqa_mc1.json", "units/random/truthfulqa_mc1.json"}
    assert changed["results"]["random"]["truthfulqa_mc1"]["n"] == 4


def test_candidate_formats_and_heldout_exclusion(tmp_path: Path) -> None:
    rows = [
        {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]},
        {"instruction": "Add", "input": "1 and 2", "output": "3"},
        {"prompt": "Say yes", "completion": "yes"},
        {"instruction": "", "output": "orphan"},
        {"instruction": HELDOUT[1]["instruction"].upper(), "output": "different"},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    held_path = tmp_path / "h.jsonl"
    held_path.write_text("".join(json.dumps(r) + "\n" for r in HELDOUT))
    from lm_mixup_train.downstream.config import HeldoutSettings

    keys = heldout_keys(load_heldout(HeldoutSettings(path=str(held_path), n=4)))
    data = load_candidate(CandidateSpec(name="c", path=str(path)), keys)
    assert [e.response_text for e in data.examples] == ["Hello.", "3", "yes"]
    assert "1 and 2" in data.examples[1].prompt_text
    assert data.skipped == {"no_prompt_or_response": 1, "heldout_overlap": 1}
