"""Record counts stated in the raw folders' SOURCE.md files, and per-file document counts."""

from __future__ import annotations

import collections
import re
from pathlib import Path


def source_card_counts(card: Path) -> dict[str, int]:
    """Per-file record (or article) counts stated in a ``SOURCE.md``, keyed by the file's path in its folder."""
    text = card.read_text()
    counts: dict[str, int] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip().strip("`*") for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if set(cells[0]) <= {"-", ":", ""}:
            continue
        column = "records" if "records" in header else "articles" if "articles" in header else None
        if column and not cells[0].startswith("total"):
            counts[cells[0]] = int(cells[header.index(column)].replace(",", ""))
    if not counts:  # single-file folders state "N articles" in prose
        match = re.search(r"(\d[\d,]*) articles", text)
        data_files = [p for p in card.parent.rglob("*") if p.is_file() and p.suffix != ".md"]
        if match and len(data_files) == 1:
            counts[str(data_files[0].relative_to(card.parent))] = int(match.group(1).replace(",", ""))
    return counts


def documents_per_file(documents) -> collections.Counter:
    return collections.Counter((doc.metadata["source"], doc.metadata["file"]) for doc in documents)
