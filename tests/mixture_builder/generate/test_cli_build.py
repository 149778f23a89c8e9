import sys

import pytest

from mixture_builder.cli import main


def run_cli(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["lm-mixup", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code


def test_bad_config_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters: {max_size: 30}\n")
    assert run_cli(monkeypatch, "build", "--config", str(bad)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and str(bad) in err and "max_size" in err and "\n" not in err


def test_missing_source_is_reported(tmp_path, monkeypatch, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"output: {tmp_path / 'out'}\nsources: [{{path: {tmp_path / 'nowhere'}}}]\n")
    assert run_cli(monkeypatch, "build", "--config", str(config), "--dry-run") == 2
    assert "source not found" in capsys.readouterr().err


def test_build_help_lists_the_options(monkeypatch, capsys):
    assert run_cli(monkeypatch, "build", "--help") == 0
    out = capsys.readouterr().out
    for option in ("--config", "--output", "--push", "--dry-run", "--no-cache", "--limit"):
        assert option in out
