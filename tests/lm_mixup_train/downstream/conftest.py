"""Fixtures of the downstream tests: the shared benchmark files (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RAW_DIR

EVAL_DIR = RAW_DIR.parent / "eval"


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """``../shared/data/eval`` next to the project; the test is skipped when it is not there."""
    if not EVAL_DIR.is_dir():
        pytest.skip(f"benchmark files not found at {EVAL_DIR}")
    return EVAL_DIR


@pytest.fixture(scope="session")
def gsm8k_file() -> Path:
    path = RAW_DIR / "gsm8k" / "test.jsonl"
    if not path.is_file():
        pytest.skip(f"GSM8K test file not found at {path}")
    return path
