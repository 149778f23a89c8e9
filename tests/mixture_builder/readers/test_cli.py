"""``lm-mixup read``: normalised records as JSON lines; bad input as one error line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mixture_builder.readers.api import is_hub_id
from mixture_builder.readers.cli import FORMAT_CHOICES
from mixture_builder.readers.formats import FORMAT_NAMES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixture_builder.cli", "read", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_read_prints_json_lines(raw_dir: Path):
    result = run(str(raw_dir / "gsm8k" / "train.jsonl"), "--format", "auto", "--limit", "3")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"text", "id", "metadata"}
    assert rows[0]["metadata"]["source"] == "gsm8k" and rows[0]["metadata"]["license"] == "mit"
    assert result.stderr.strip() == "3 records"


def test_read_with_source_license_and_segments(tmp_path: Path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps([{"id": "1", "url": "u", "title": "T", "text": "T\n\na b c\n\nd e f"}]))
    result = run(str(path), "--source", "wiki", "--license", "cc-by-sa-3.0", "--segment", "3")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["wiki/1#0", "wiki/1#1"]
    assert rows[0]["metadata"]["license"] == "cc-by-sa-3.0"


def test_bad_input_is_one_line_with_exit_status_2(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n{"instruction": \n')
    result = run(str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "line 2" in line and "malformed JSON" in line

    skipped = run(str(path), "--on-error", "skip")
    assert skipped.returncode == 0 and len(skipped.stdout.splitlines()) == 1
    assert '"dropped_malformed_json": 1' in skipped.stderr


def test_missing_path_and_unknown_format(tmp_path: Path):
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    unknown = run(str(tmp_path), "--format", "yaml")
    assert unknown.returncode == 2 and "unknown format 'yaml'" in unknown.stderr


def test_hub_ids_are_told_from_paths():
    assert is_hub_id("tatsu-lab/alpaca") and is_hub_id("org/name:validation")
    assert not is_hub_id("data/train.jsonl") and not is_hub_id("/abs/path") and not is_hub_id("s3://b/k")


def test_cli_format_choices_match_the_registry():
    assert FORMAT_CHOICES == FORMAT_NAMES
