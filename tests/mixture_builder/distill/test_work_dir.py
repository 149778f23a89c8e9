"""Distill's work folder: restart (with a WARNING naming what changed) only when the result would change."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from mixture_builder.distill.checkpoint import checkpoint_fingerprint
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import config_fingerprint, prepare_work_dir


def _sentinel(config: DistillConfig) -> Path:
    path = config.work_dir / "ingest" / "00000.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"done")
    return path


def test_request_knobs_resume_and_result_changes_restart_with_a_warning(tmp_path: Path, caplog):
    config = DistillConfig(output=str(tmp_path / "out"))
    prepare_work_dir(config)
    done = _sentinel(config)
    rater = dataclasses.replace(config.scoring.rater, max_concurrency=2, timeout_s=3.0, api_key_env="X", max_retries=9,
                                prices={"input": 1.0}, progress=False)
    teacher = dataclasses.replace(config.distiller.teacher, max_concurrency=2, timeout_s=3.0, requests_per_minute=5)
    knobs = dataclasses.replace(config, executor=dataclasses.replace(config.executor, workers=4), scoring=dataclasses.replace(config.scoring, rater=rater),
                                distiller=dataclasses.replace(config.distiller, teacher=teacher))
    with caplog.at_level(logging.WARNING):
        prepare_work_dir(knobs)
    assert done.is_file() and not caplog.records

    changed = dataclasses.replace(config, executor=dataclasses.replace(config.executor, tasks=2), scoring=dataclasses.replace(config.scoring, threshold=3))
    with caplog.at_level(logging.WARNING):
        prepare_work_dir(changed)
    assert not done.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"{config.output} was made with other settings (changed: scoring.threshold, tasks); starting over"]


def test_fingerprint_has_template_versions_and_the_checkpoint_content(tmp_path: Path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"model_type": "llama"}')
    weights = ckpt / "model.safetensors"
    weights.write_bytes(b"v1")
    config = DistillConfig(output=str(tmp_path / "out"))
    config.distiller.checkpoint = str(ckpt)
    data = config_fingerprint(config)
    assert set(data["templates"]) == {"distill", "rate_quality"}
    before = data["distiller"]["checkpoint_content"]
    assert before == checkpoint_fingerprint(str(ckpt))
    prepare_work_dir(config)
    done = _sentinel(config)
    weights.write_bytes(b"v2")  # retrained into the same folder
    os.utime(weights, ns=(1, 1))
    assert checkpoint_fingerprint(str(ckpt)) != before
    prepare_work_dir(config)
    assert not done.exists()
    # a Hub id that is not in the local cache stands for itself
    assert checkpoint_fingerprint("some-org/not-cached-model") == "some-org/not-cached-model"
