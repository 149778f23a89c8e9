"""Synthetic MIXTURE rows and Hub-metadata checks shared by the dataset_cards tests."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from dataset_cards.licenses import HUB_LICENSE_IDS
from hub.server.card_yaml import SIZE_CATEGORIES
from mixture_builder.mixture_format import (
    MIXTURE_FIELDS,
    MIXTURE_INSTRUCTION,
    TASK_TYPES,
    format_completion,
    linearise,
)

LICENSES = ("CC BY-SA 3.0; GFDL", "cc-by-nc-4.0", "Apache-2.0", "LIMA research terms")
TASK_CATEGORIES = {"text-generation", "question-answering", "text-classification", "summarization"}


def mixture_rows(n: int, prefix: str, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` MIXTURE records with every column of ``MIXTURE_FIELDS``; licenses cycle through ``LICENSES``."""
    rng = random.Random(f"{prefix}-{seed}")
    rows = []
    for i in range(n):
        size = rng.randint(2, 12)
        inputs = [f"Q: question {i}.{j}?\n A: answer {j}" for j in range(size)]
        rows.append(
            {
                "id": f"{prefix}-{i:05d}",
                "task_type": TASK_TYPES[i % len(TASK_TYPES)],
                "instruction": MIXTURE_INSTRUCTION,
                "input": linearise(inputs),
                "output": f"Q: merged question {i}?\n A: merged answer " + "x" * rng.randint(10, 200),
                "cot": format_completion("reasoning", "answer"),
                "source": rng.choice(["wikipedia", "wikitext"]),
                "inputs": inputs,
                "degradations": [["typos"] for _ in inputs],
                "source_ids": [f"doc-{i}-{j}" for j in range(size)],
                "quality": rng.randint(3, 5),
                "teacher": "SmolLM2-135M-Instruct write_qa@1 rate_quality@1",
                "license": LICENSES[i % len(LICENSES)],
            }
        )
    assert all(set(row) == set(MIXTURE_FIELDS) for row in rows)
    return rows


def mixture_tables(n_sft: int = 40, n_grpo: int = 90) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """SFT and GRPO configs with a 90/10 train/test split."""
    return {
        "sft": {
            "train": mixture_rows(n_sft * 9 // 10, "sft-train"),
            "test": mixture_rows(n_sft // 10, "sft-test"),
        },
        "grpo": {
            "train": mixture_rows(n_grpo * 9 // 10, "grpo-train"),
            "test": mixture_rows(n_grpo // 10, "grpo-test"),
        },
    }


def hub_metadata_problems(metadata: dict[str, Any], folder: Path | None = None) -> list[str]:
    """What the Hub's dataset-card metadata rules would reject (license ids, size/task categories,
    languages, license_name slug, ``configs`` shape and that every ``data_files`` glob matches a file)."""
    problems = []
    licenses = metadata.get("license")
    for lic in [licenses] if isinstance(licenses, str) else licenses or []:
        if lic not in HUB_LICENSE_IDS:
            problems.append(f"license {lic!r} is not a Hub license id")
    if "other" in (licenses or []) and not re.match(
        r"^[a-z0-9][a-z0-9.-]*$", metadata.get("license_name", "")
    ):
        problems.append("license other without a slug license_name")
    for size in metadata.get("size_categories") or []:
        if size not in SIZE_CATEGORIES:
            problems.append(f"size category {size!r}")
    for task in metadata.get("task_categories") or []:
        if task not in TASK_CATEGORIES:
            problems.append(f"task category {task!r}")
    for lang in metadata.get("language") or []:
        if not re.match(r"^[a-z]{2,3}$", lang):
            problems.append(f"language {lang!r}")
    for entry in metadata.get("configs") or []:
        # builder parameters are allowed next to config_name/data_files/default; the layout writes description
        if set(entry) - {"config_name", "data_files", "default", "description"}:
            problems.append(f"config keys {sorted(entry)}")
        for data_file in entry.get("data_files", []):
            if folder is not None and not list(folder.glob(data_file["path"])):
                problems.append(f"data_files {data_file['path']!r} matches nothing")
    return problems
