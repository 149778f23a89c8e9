"""Fixtures of the training tests: a tiny random Qwen2 model with a locally trained tokenizer, a small MIXTURE
folder and its quality library — built once per session, no download."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._tiny import build_tiny_model, write_mixture_folder


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    """Tiny models run fastest single-threaded, especially on a shared machine."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random ~1M-parameter Qwen2 causal LM + BPE tokenizer with a ChatML template."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def mixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MIXTURE folder: data_sft/ and data_grpo/ with train (16) and test (4) records each."""
    return write_mixture_folder(tmp_path_factory.mktemp("mixture"))


@pytest.fixture(scope="session")
def quality_library_path(mixture_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The k-NN quality library built from ``mixture_dir`` (targets rated 4–5, cluster items labelled 1 with
    the explicit fixed-label option, so no rater runs)."""
    from lm_mixup_train.rewards.quality_library import build_quality_library

    out = tmp_path_factory.mktemp("library") / "quality_library"
    build_quality_library(str(mixture_dir), out, input_score=1)
    return out.with_suffix(".npz")
