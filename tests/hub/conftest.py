"""Fixtures of the hub tests: a local Hub the real clients are pointed at, dataset and checkpoint folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import testing as hub_testing
from hub.server import HubServer
from hub.testing import hub_environment

SECRET_TOKEN = "hf_SecretTokenForLeakTests9f3a27c1b5e8d04"

local_hub_endpoint = hub_testing.local_hub_endpoint  # the public fixture, as other packages' tests use it


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    """A local Hub under ``tmp_path/hub_root``; clients point at it with ``SECRET_TOKEN`` as ``HF_TOKEN``."""
    with (
        HubServer(tmp_path / "hub_root") as server,
        hub_environment(server.url, token=SECRET_TOKEN, hf_home=tmp_path / "hf_home"),
    ):
        yield server


def mixture_rows(prefix: str, n: int) -> list[dict]:
    """``n`` MIXTURE-shaped records (list columns included) with ids ``{prefix}-{i}``."""
    return [
        {
            "id": f"{prefix}-{i}",
            "task_type": "qa_mixup",
            "instruction": f"Merge the samples into one ({i}).",
            "input": f"Q: what is {i}?\nA: {i}\n\nQ: what is {i} again?\nA: {i}",
            "output": f"Q: What is {i}? A: It is {i}. " + "x" * (i % 7),
            "cot": "both samples ask the same thing",
            "inputs": [f"Q: what is {i}?", f"Q: what is {i} again?"],
            "source_ids": [f"s{i}", f"t{i}"],
            "quality": i % 6,
        }
        for i in range(n)
    ]


def write_mixture_folder(folder: Path, tag: str = "v1", n: int = 40, shard_size_bytes: int = 4000) -> dict:
    """A built dataset folder: ``data_sft``/``data_grpo`` train/test Parquet shards, README with ``configs``,
    and ``.lm-mixup/`` intermediates that must never be pushed. Returns the rows per config and split."""
    from dataset_cards.layout import write_dataset_folder

    tables = {
        "sft": {"train": mixture_rows(f"{tag}-sft-train", n), "test": mixture_rows(f"{tag}-sft-test", 5)},
        "grpo": {"train": mixture_rows(f"{tag}-grpo-train", n), "test": mixture_rows(f"{tag}-grpo-test", 5)},
    }
    write_dataset_folder(folder, tables, shard_size_bytes=shard_size_bytes)
    readme = folder / "README.md"
    readme.write_text(readme.read_text() + f"\n# MIXTURE test build {tag}\n")
    (folder / "stats.json").write_text(f'{{"written": {2 * n + 10}}}\n')
    (folder / ".lm-mixup" / "logs").mkdir(parents=True, exist_ok=True)
    (folder / ".lm-mixup" / "logs" / "stats.json").write_text("{}")
    return tables


@pytest.fixture
def dataset_folder(tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "mixture"
    return folder, write_mixture_folder(folder)


def write_tiny_checkpoint(folder: Path, seed: int = 0) -> dict:
    """A ~30k-parameter Qwen2 causal LM saved with ``save_pretrained``; returns its state dict."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(folder)
    return {k: v.clone() for k, v in model.state_dict().items()}
