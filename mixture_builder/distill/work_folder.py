"""The layout of a distill run's work folder (``{output}/.lm-mixup/``): stage outputs, logs, and reading them."""

from __future__ import annotations

from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.readers import JsonlReader

from mixture_builder.distill.config import DistillConfig


def stage_dir(config: DistillConfig, name: str) -> Path:
    """Folder of one stage's intermediate output (``{output}/.lm-mixup/<name>``)."""
    return config.work_dir / name


def logs_dir(config: DistillConfig, stage: str) -> Path:
    """datatrove logging folder of one stage."""
    return config.work_dir / "logs" / stage


def read_docs(folder: Path) -> list[Document]:
    """Every document of an intermediate folder (``*.jsonl.gz``), in file order."""
    if not folder.is_dir() or not any(folder.glob("*.jsonl.gz")):
        return []
    return list(JsonlReader(str(folder), glob_pattern="*.jsonl.gz", compression="gzip").run())
