"""MIXTURE records → TRL prompt-completion rows; length checks skip and count, never truncate."""

from __future__ import annotations

import datasets
import pytest

from lm_mixup_train.data import load_mixture
from lm_mixup_train.formatting import prepare
from lm_mixup_train.trainers import load_tokenizer
from mixture_builder.errors import InputError
from mixture_builder.mixture_format import SYSTEM_PROMPT, format_completion


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return load_tokenizer(str(tiny_model_dir))


def test_sft_rows_are_conversational_prompt_completion(mixture_dir, tokenizer) -> None:
    raw = load_mixture(str(mixture_dir), "sft", "train")
    data, report = prepare(raw, tokenizer, kind="sft", max_length=4096)
    assert report.kept == len(data) == len(raw) == 16 and not report.skipped
    row, record = data[0], raw[0]
    assert row["prompt"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert row["prompt"][1]["role"] == "user" and record["input"] in row["prompt"][1]["content"]
    assert row["completion"] == [{"role": "assistant", "content": format_completion(record["cot"], record["output"])}]
    assert set(data.column_names) == {"prompt", "completion"}


def test_grpo_rows_keep_reward_columns(mixture_dir, tokenizer) -> None:
    raw = load_mixture(str(mixture_dir), "grpo", "test")
    data, _report = prepare(raw, tokenizer, kind="grpo", max_prompt_length=4096)
    assert set(data.column_names) == {"prompt", "id", "task_type", "output", "quality"}
    assert data["output"] == raw["output"] and data["task_type"] == raw["task_type"]


def test_too_long_records_are_skipped_and_counted(mixture_dir, tokenizer) -> None:
    raw = load_mixture(str(mixture_dir), "sft", "train")
    lengths = sorted(
        len(tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=True, return_dict=True)["input_ids"])
        for r in prepare(raw, tokenizer, kind="sft")[0]
    )
    limit = lengths[len(lengths) // 2]
    data, report = prepare(raw, tokenizer, kind="sft", max_length=limit)
    assert report.skipped["too_long"] == sum(n > limit for n in lengths) > 0
    assert report.kept == len(data) == sum(n <= limit for n in lengths)
    with pytest.raises(InputError, match=r"no trainable records left \({'prompt_too_long': 16}\)"):
        prepare(raw, tokenizer, kind="grpo", max_prompt_length=5)


def test_invalid_records_raise_or_are_skipped(tokenizer) -> None:
    good = {"task_type": "qa_mixup", "instruction": "Merge.", "input": "Q: a A: b", "output": "Q: a A: b", "cot": "c"}
    bad_task = {**good, "task_type": "poem_mixup"}
    no_output = {**good, "output": ""}
    raw = datasets.Dataset.from_list([good, bad_task, no_output])
    with pytest.raises(InputError, match=r"record 1, field 'task_type': unknown task type 'poem_mixup' — use one of"):
        prepare(raw, tokenizer, kind="sft", where="mix")
    data, report = prepare(raw, tokenizer, kind="sft", on_error="skip")
    assert len(data) == 1 and dict(report.skipped) == {"unknown_task_type": 1, "missing_output": 1}


def test_load_mixture_errors(tmp_path, mixture_dir) -> None:
    with pytest.raises(InputError, match="dataset folder not found: .*nope/deeper — run `make demo`"):
        load_mixture(str(tmp_path / "nope" / "deeper"), "sft", "train")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a MIXTURE folder or Hub dataset id"):
        load_mixture(str(tmp_path / "file.txt"), "sft", "train")
    with pytest.raises(InputError, match="split 'validation'"):
        load_mixture(str(mixture_dir), "sft", "validation")


def test_skipped_rows_first_keep_the_schema(tokenizer) -> None:
    """A whole write batch of skipped rows before the first kept one (datasets writes 1000 rows per batch)."""
    good = {"task_type": "qa_mixup", "instruction": "Merge.", "input": "Q: a A: b", "output": "Q: a A: b", "cot": "c",
            "id": "x", "quality": 4}
    raw = datasets.Dataset.from_list([{**good, "output": ""}] * 1001 + [good] * 2)
    for kind in ("sft", "grpo"):
        data, report = prepare(raw, tokenizer, kind=kind, on_error="skip")
        assert len(data) == 2 and report.skipped == {"missing_output": 1001}
        assert data[0]["prompt"][1]["content"] == "Merge.\n\nQ: a A: b"
