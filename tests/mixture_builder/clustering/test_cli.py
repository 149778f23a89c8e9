"""`lm-mixup dedup` / `lm-mixup cluster` commands (registered on a Typer app like the root CLI does)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from mixture_builder.clustering.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl.gz")) for line in gzip.open(path, "rt")]


def test_dedup_command_on_a_raw_alpaca_file(raw_dir: Path, tmp_path: Path) -> None:
    source = raw_dir / "llamafactory_demo/alpaca_en_demo.json"
    result = CliRunner().invoke(_app(), ["dedup", str(source), "--output", str(tmp_path / "out"), "--no-near"])
    assert result.exit_code == 0, result.output
    kept = _records(tmp_path / "out/kept")
    removed = _records(tmp_path / "out/removed_exact")
    rows = json.loads(source.read_text())
    distinct = {(r["instruction"].strip().lower(), r["input"].strip().lower(), r["output"].strip().lower())
                for r in rows}
    assert len(kept) == len(distinct) and len(kept) + len(removed) == len(rows)
    kept_ids = {d["id"] for d in kept}
    assert removed and all(d["metadata"]["duplicate_of"] in kept_ids for d in removed)
    # rerunning resumes: nothing is redone and nothing duplicated
    again = CliRunner().invoke(_app(), ["dedup", str(source), "--output", str(tmp_path / "out"), "--no-near"])
    assert again.exit_code == 0 and len(_records(tmp_path / "out/kept")) == len(kept)


def test_cluster_command_rejects_unknown_config_keys(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("clustering:\n  max_sise: 20\n")
    result = CliRunner().invoke(_app(), ["cluster", str(tmp_path), "-o", str(tmp_path / "o"), "--config", str(config)])
    assert result.exit_code != 0
    assert "max_sise" in str(result.exception)
