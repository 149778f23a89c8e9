"""Fixtures of the reader tests: the whole raw folder, read once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixture_builder.readers import RawReader


@pytest.fixture(scope="session")
def raw_read(raw_dir: Path):
    """Every record under the raw folder (read once): ``(documents, reader stats as {name: total})``."""
    reader = RawReader(str(raw_dir))
    documents = list(reader.run())
    return documents, {name: metric.total for name, metric in reader.stats.stats.items()}
