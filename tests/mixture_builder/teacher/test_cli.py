"""``lm-mixup teacher ping|rate`` (registered on a fresh Typer app, as the root CLI does)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from mixture_builder.teacher import cli as teacher_cli
from mixture_builder.teacher.testing import last_user_message


def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """root"""

    teacher_cli.register(root)
    return root


def write_config(tmp_path, server) -> str:
    path = tmp_path / "teacher.yaml"
    path.write_text(f"teacher:\n  backend: openai\n  base_url: {server.base_url}\n  model: fake\n"
                    f"  cache_path: {tmp_path / 'cache.sqlite'}\n  progress: false\n"
                    "  prices: {input: 1.0, output: 2.0}\n")
    return str(path)


def test_ping(serve, tmp_path):
    server = serve(lambda r: "hello there")
    result = CliRunner().invoke(app(), ["teacher", "ping", "--config", write_config(tmp_path, server)])
    assert result.exit_code == 0, result.output
    assert "openai fake:" in result.output and "hello there" in result.output


def test_rate_file_dry_run_then_for_real(serve, tmp_path):
    def responder(request):
        overall = 9 if "good" in last_user_message(request) else 2
        return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": overall})

    server = serve(responder)
    data = tmp_path / "pool.jsonl"
    data.write_text("\n".join(json.dumps({"instruction": f"Task {i}", "input": "", "output": "good" if i % 2 else "x"})
                              for i in range(6)) + "\n")
    config = write_config(tmp_path, server)
    out = tmp_path / "rated.jsonl"
    dry = CliRunner().invoke(app(), ["teacher", "rate", str(data), "-o", str(out), "-c", config, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    estimate = json.loads(dry.stdout)["dry_run"]
    assert estimate["calls"] == 6 and estimate["cost_usd"] > 0 and server.requests == [] and not out.exists()

    real = CliRunner().invoke(app(), ["teacher", "rate", str(data), "-o", str(out), "-c", config, "--threshold", "4"])
    assert real.exit_code == 0, real.output
    rows = [json.loads(line) for line in out.open()]
    assert len(rows) == 3 and {r["quality"] for r in rows} == {5} and len(server.requests) == 6
    assert json.loads(real.stdout)["rater_stats"]["teacher_requests"] == 6
