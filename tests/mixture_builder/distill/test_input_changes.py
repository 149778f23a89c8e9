"""`lm-mixup distill` rerun after its pool was edited (same size, old mtime): one WARNING names the pool, the
output holds the new record, and the teacher cache answers every request of the unchanged records."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import run_distill
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import (
    MARK,
    is_distill_request,
    load_train,
    real_pool_config,
    scripted_teacher,
)

EDIT = "EDITED"


def teacher(request: dict[str, Any]) -> str:
    """The scripted teacher, rating the edited pool record high so that it is kept as an original row."""
    user = "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user")
    if not is_distill_request(request) and EDIT in user and MARK not in user:
        return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": 9})
    return scripted_teacher(request)


def _pool(raw_dir: Path, path: Path, n: int = 36) -> list[dict]:
    rows = json.loads((raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json").read_text())[:n]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _edit_same_size(path: Path, rows: list[dict]) -> str:
    """Start one record's output with EDIT (same byte size), then restore the file's mtime."""
    stat = path.stat()
    i = next(i for i, r in enumerate(rows) if len(r["output"]) > 40 and r["output"][: len(EDIT)].isascii()
             and r["output"][: len(EDIT)].isalpha())
    rows[i] = {**rows[i], "output": EDIT + rows[i]["output"][len(EDIT):]}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    return rows[i]["output"]


def _bodies(requests: list[dict]) -> list[str]:
    return [json.dumps(r.get("messages"), sort_keys=True) for r in requests]


def test_edited_pool_restarts_with_one_warning_and_the_cache_answers_unchanged_records(raw_dir: Path,
                                                                                       tmp_path: Path, caplog):
    pool = tmp_path / "pool.jsonl"
    rows = _pool(raw_dir, pool)
    with FakeOpenAIServer(teacher) as server:
        data = real_pool_config(raw_dir, tmp_path / "out", server.base_url)
        data["pools"] = [{"path": str(pool), "source": "alpaca", "license": "cc-by-nc-4.0"}]
        data["report"] = False
        config = DistillConfig.from_dict(data)
        first = run_distill(config)
        sent_first = _bodies(server.requests)
        assert sent_first and not any(EDIT in r["output"] for r in load_train(config.output))

        # resume with unchanged inputs (a touch only): nothing re-sent, the same output, no warning
        os.utime(pool)
        with caplog.at_level(logging.WARNING, logger="mixture_builder.work_dir"):
            assert run_distill(config)["stages"] == first["stages"]
        assert not caplog.records and len(server.requests) == len(sent_first)

        edited = _edit_same_size(pool, rows)
        with caplog.at_level(logging.WARNING, logger="mixture_builder.work_dir"):
            second = run_distill(config)
        resent = _bodies(server.requests[len(sent_first):])

    assert [r.getMessage() for r in caplog.records] == [
        f"{config.output} was made from other inputs (pools[0].path {pool}: content changed); starting over"]
    outputs = [r["output"] for r in load_train(config.output)]
    assert edited in outputs and len(outputs) == second["output"]["rows"]
    # only requests the first run never made went to the endpoint: the edited record's rating (and the clusters
    # it changed); every unchanged record was answered by the cache
    assert resent and not set(resent) & set(sent_first)
    assert any(EDIT in body for body in resent)
    assert len(resent) < len(sent_first) / 4
