"""`lm-mixup evaluate distiller` with the embedded teacher (SmolLM2-135M on CPU): the table with both baselines
and eval.json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mixture_builder.cli import app


@pytest.mark.slow
def test_embedded_teacher_table_and_eval_json(tmp_path, mixture_dir, quality_library_path) -> None:
    teacher = tmp_path / "teacher.yaml"
    teacher.write_text(json.dumps({"teacher": {"backend": "embedded", "cache_path": str(tmp_path / "c.sqlite"),
                                               "progress": False}}))
    result = CliRunner().invoke(app, ["evaluate", "distiller", "--dataset", str(mixture_dir), "--limit", "2",
                                      "--max-new-tokens", "48", "--teacher-config", str(teacher),
                                      "--quality-library", str(quality_library_path), "-o", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    for row in ("| SmolLM2-135M-Instruct |", "| longest_input |", "| first_input |"):
        assert row in result.output
    saved = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert len(saved["records"]) == 2 and saved["meta"]["generation"]["backend"] == "embedded"
    assert all(r["completions"]["SmolLM2-135M-Instruct"]["text"] for r in saved["records"])
