"""The console of `lm-mixup distill`: one line per stage by default, datatrove's logs in the work folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from mixture_builder.cli import app
from mixture_builder.console import Stage, StageMonitor, drop_summary
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import scripted_teacher

REPO = Path(__file__).resolve().parents[3]


def _demo_with_fake_teacher(tmp_path: Path, base_url: str) -> Path:
    """configs/distill_demo.yaml (the default run) with the scripted endpoint as rater and distiller."""
    data = yaml.safe_load((REPO / "configs" / "distill_demo.yaml").read_text())
    teacher = {"backend": "openai", "base_url": base_url, "model": "scripted", "progress": False,
               "cache_path": str(tmp_path / "cache.sqlite")}
    data["scoring"]["rater"] = teacher
    data["distiller"]["teacher"] = teacher
    data["output"] = str(tmp_path / "out")
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_default_run_prints_one_line_per_stage(tmp_path):
    with FakeOpenAIServer(scripted_teacher) as server:
        config = _demo_with_fake_teacher(tmp_path, server.base_url)
        result = CliRunner().invoke(app, ["distill", "--config", str(config)])
        assert server.requests  # the run really called the teacher
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) <= 40, result.output
    stages = ["ingest", "score", "embed", "cluster", "distill", "assemble"]
    if yaml.safe_load(config.read_text()).get("merge", {}).get("rerate", True):
        stages.insert(-1, "rerate")  # the demo config turns re-rating off (see its comment)
    for stage in stages:
        assert any(line.split()[:2] == [stage, "✓"] for line in lines), (stage, result.output)
    assert "INFO" not in result.output and "datatrove" not in result.output
    log = tmp_path / "out" / ".lm-mixup" / "logs" / "console.log"
    assert "datatrove" in log.read_text()  # datatrove's own logs went to the work folder
    assert any("dropped:" in line for line in lines)  # a stage's counts when it ends
    assert "wrote" in lines[-1] or "report" in lines[-1]


def test_stage_counts_read_either_shape_of_merged_stats(tmp_path):
    """The local executor merges its tasks' stats in memory (plain counts), Ray's from their JSON files
    (``{total, n, mean, …}``): the stage line gives the same counts from both."""
    merged = {"total": 200, "n": 2, "mean": 100.0, "min": 96, "max": 104, "unit": "task"}
    dropped = {"total": 7, "n": 2, "mean": 3.5, "min": 3, "max": 4, "unit": "task"}
    for name, stats in (("local", {"total": 200, "forwarded": 193, "dropped_exact_duplicate": 7}),
                        ("ray", {"total": merged, "forwarded": merged, "dropped_exact_duplicate": dropped})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "stats.json").write_text(json.dumps([{"name": "filter", "stats": stats},
                                                                {"name": "writer", "stats": {"total": stats["total"]}}]))
    assert drop_summary(tmp_path / "local") == drop_summary(tmp_path / "ray") == "out 200; dropped: exact_duplicate 7"


def test_a_finished_stage_line_is_never_cut(tmp_path):
    """A stage's final line carries the run's counts: it is written whole even past one terminal row (a count
    cut to its first digits would misreport it)."""
    logging_dir = tmp_path / "score"
    (logging_dir / "completions").mkdir(parents=True)
    (logging_dir / "completions" / "00000").write_text("")
    stats = {"total": 300_000, "forwarded": 169_730, "dropped_exact_duplicate": 885,
             "dropped_near_duplicate": 129_385, "dropped_unscored_no_score_and_not_rated": 12_345}
    (logging_dir / "stats.json").write_text(json.dumps([{"name": "filter", "stats": stats}]))
    out = io.StringIO()
    monitor = StageMonitor([Stage("score", logging_dir, 1)], out)
    monitor._skipped_done.clear()  # finished during this run, not before it
    monitor.poll(final=True)
    line = out.getvalue().rstrip("\n")
    assert len(line) > 118 and line.endswith("12,345"), line
    assert "near_duplicate 129,385" in line, line
