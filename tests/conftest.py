"""Shared fixtures: the real raw data in ../shared (skipped cleanly when absent) and an isolated HF home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = PROJECT_ROOT.parent / "shared" / "data" / "raw"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """``../shared/data/raw`` next to the project; the test is skipped when it is not there."""
    if not RAW_DIR.is_dir():
        pytest.skip(f"real test data not found at {RAW_DIR}")
    return RAW_DIR


@pytest.fixture(autouse=True)
def _isolated_hf_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the Hugging Face caches of a test run out of the user's home and off the network."""
    home = tmp_path_factory.getbasetemp() / "hf_home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
