"""`lm-mixup dedup` / `cluster` rerun after the input file was edited: refused in one line naming the file;
``--fresh`` starts over and the output reflects the new input."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mixture_builder.clustering.api import run_clusters
from mixture_builder.errors import ConfigError

from .test_cli import _app, _records
from .test_rerun import _rows, _write


def _edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


def test_dedup_rerun_after_a_same_size_edit_is_refused_then_fresh_uses_the_new_input(tmp_path: Path) -> None:
    pool = _write(tmp_path / "pool.jsonl", _rows(4, 1, "A "))
    out = tmp_path / "out"
    assert CliRunner().invoke(_app(), ["dedup", str(pool), "-o", str(out), "--no-near"]).exit_code == 0
    _edit_keeping_size_and_mtime(pool, "Describe item 2", "DESCRIBE ITEM 2")
    refused = CliRunner().invoke(_app(), ["dedup", str(pool), "-o", str(out), "--no-near"])
    assert isinstance(refused.exception, ConfigError), refused.output
    message = str(refused.exception)
    assert "\n" not in message and f"{pool}: content changed" in message and "--fresh" in message
    # trusting size and modification time, the same edit goes unnoticed (the documented trade-off)
    trusted = CliRunner().invoke(_app(), ["dedup", str(pool), "-o", str(out), "--no-near", "--input-hash", "never"])
    assert trusted.exit_code == 0 and not any("DESCRIBE" in r["text"] for r in _records(out / "kept"))
    fresh = CliRunner().invoke(_app(), ["dedup", str(pool), "-o", str(out), "--no-near", "--fresh"])
    assert fresh.exit_code == 0, fresh.output
    assert sum("DESCRIBE ITEM 2" in r["text"] for r in _records(out / "kept")) == 1


def test_cluster_rerun_after_a_new_file_in_the_input_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pool"
    folder.mkdir()
    _write(folder / "a.jsonl", _rows(6, 3))
    out = tmp_path / "out"
    run_clusters(str(folder), out, long_tail_k=None, group_by=None)
    _write(folder / "b.jsonl", _rows(2, 4, "B "))
    with pytest.raises(ConfigError, match=re.escape(f"other inputs ({folder}: b.jsonl added)")):
        run_clusters(str(folder), out, long_tail_k=None, group_by=None)
    run_clusters(str(folder), out, long_tail_k=None, group_by=None, fresh=True)
    assert len(_records(out / "records")) == 8
