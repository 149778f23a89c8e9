"""The layout of a build's work folder (``{output}/.lm-mixup/``): stage logs, intermediate data, their stats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mixture_builder.generate.config import STAGES, BuildConfig


def stage_dirs(config: BuildConfig) -> dict[str, Path]:
    """Logging dir of every stage, and the intermediate data folders."""
    work = config.work_dir
    dirs = {stage: work / "logs" / stage for stage in STAGES}
    if config.push_to:
        dirs["push"] = work / "logs" / f"push-{config.push_to.replace('/', '--')}"
    dirs["samples_data"] = work / "samples"
    dirs["records_data"] = work / "records"
    return dirs


def read_stage_stats(logging_dir: str | Path) -> list[dict[str, Any]]:
    """The merged datatrove stats of one finished stage (``[]`` when it has not finished)."""
    path = Path(logging_dir) / "stats.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())
