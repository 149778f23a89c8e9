"""Reruns of `lm-mixup dedup` / `cluster` into the same output, missing inputs, and the dedup plan's counts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mixture_builder.clustering.api import run_clusters, run_dedup
from mixture_builder.errors import ConfigError, InputError

from .test_cli import _app, _records

WORDS = ["river", "mountain", "quiet", "engine", "copper", "lantern", "orbit", "meadow", "signal", "harbor",
         "violet", "cipher", "marble", "thunder", "garden", "pixel", "canyon", "falcon", "ember", "glacier",
         "compass", "willow", "rocket", "saddle"]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rows(n: int, seed: int, prefix: str = "") -> list[dict]:
    rng = random.Random(seed)
    return [{"instruction": f"{prefix}Describe item {i}: " + " ".join(rng.choices(WORDS, k=40)), "input": "",
             "output": " ".join(rng.choices(WORDS, k=40))} for i in range(n)]


def test_dedup_rerun_with_other_input_or_tasks_is_refused(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", _rows(4, 1, "A "))
    b = _write(tmp_path / "b.jsonl", _rows(3, 2, "B "))
    out = tmp_path / "out"
    first = CliRunner().invoke(_app(), ["dedup", str(a), "-o", str(out), "--no-near"])
    assert first.exit_code == 0, first.output
    kept = _records(out / "kept")
    assert len(kept) == 4
    for args, changed in (([str(b)], "input"), ([str(a), "--tasks", "2"], "tasks"), ([str(a), "--near"], "near")):
        result = CliRunner().invoke(_app(), ["dedup", *args, "-o", str(out)] + ([] if "--near" in args else
                                                                                ["--no-near"]))
        assert result.exit_code != 0 and isinstance(result.exception, ConfigError), result.output
        message = str(result.exception)
        assert "\n" not in message and f"changed: {changed}" in message and str(out) in message
    assert _records(out / "kept") == kept  # untouched
    # the same settings resume; workers are free to change
    again = CliRunner().invoke(_app(), ["dedup", str(a), "-o", str(out), "--no-near", "--workers", "1"])
    assert again.exit_code == 0 and len(_records(out / "kept")) == 4


def test_cluster_rerun_with_other_options_is_refused(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", _rows(6, 3))
    out = tmp_path / "out"
    run_clusters(str(a), out, long_tail_k=None, group_by=None)
    with pytest.raises(ConfigError, match=r"changed: .*long_tail_k"):
        run_clusters(str(a), out, long_tail_k=3, group_by=None)
    with pytest.raises(ConfigError, match=r"changed: cluster_tasks"):
        run_clusters(str(a), out, long_tail_k=None, group_by=None, cluster_tasks=2)


@pytest.mark.parametrize("command", ["dedup", "cluster"])
def test_missing_input_is_one_line_before_any_work(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nope.jsonl"
    result = CliRunner().invoke(_app(), [command, str(missing), "-o", str(tmp_path / "out")])
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == f"{missing}: no such file or folder — give an existing file or folder"
    assert not (tmp_path / "out").exists()


def test_exact_duplicates_are_written_and_counted_once(tmp_path: Path) -> None:
    """With exact + near dedup, the exact filter's exclusions are written by one stage only, and every record
    is kept or removed exactly once with matching per-stage counts."""
    from datatrove.pipeline.writers import JsonlWriter

    from mixture_builder.clustering.dedup import DuplicateFilter
    from mixture_builder.clustering.pipelines import dedup_plan

    base = _rows(20, 4)
    exact = [dict(r, instruction=r["instruction"].upper() + "  ") for r in base[:3]]  # case/space variants
    near = [dict(r, output=r["output"] + " extra") for r in base[3:5]]
    src = _write(tmp_path / "in.jsonl", base + exact + near)

    pipelines: dict[str, list] = {}

    def record(pipeline: list, *, tasks: int, name: str, depends=None):
        pipelines[name] = pipeline

    plan = dedup_plan(lambda: None, tmp_path / "w", exact=True, near=True, executor_factory=record,
                      exclusion_writer=lambda kind: JsonlWriter(str(tmp_path / kind)))
    writers = [s for steps in [*pipelines.values(), plan.steps] for s in steps
               if isinstance(s, DuplicateFilter) and s.exclusion_writer is not None]
    assert sorted(w.reason for w in writers) == ["exact_duplicate", "near_duplicate"]

    out = tmp_path / "out"
    run_dedup(str(src), out, tasks=2, workers=1)
    kept, removed_exact, removed_near = (_records(out / name) for name in ("kept", "removed_exact", "removed_near"))
    assert len(removed_exact) == 3 and len(removed_near) == 2
    assert len(kept) + len(removed_exact) + len(removed_near) == len(base + exact + near)
    ids = [d["id"] for d in kept + removed_exact + removed_near]
    assert len(set(ids)) == len(ids)
    stats = json.loads((out / ".lm-mixup/dedup/logs/final/stats.json").read_text())
    merged: dict[str, int] = {}
    for step in stats:
        for key, value in step["stats"].items():
            if key.startswith("dropped_"):
                merged[key] = merged.get(key, 0) + (value["total"] if isinstance(value, dict) else value)
    assert merged == {"dropped_exact_duplicate": 3, "dropped_near_duplicate": 2}
