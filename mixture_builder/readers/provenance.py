"""Default ``source`` and ``license`` of an input file, from the ``SOURCE.md`` of the folder it sits in.

A data folder may carry a ``SOURCE.md`` with a line like ``License (as stated by the source repo): MIT ...`` or
``- **License:** Wikipedia text is **CC BY-SA 3.0** ...``. The license named in the first clause that speaks
about the data (not the code) becomes the default license, as a Hub-style id (``cc-by-nc-4.0``, ``mit``…);
the folder's name becomes the default source. Callers override both with ``source=`` / ``license=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN_LICENSE = "unknown"
SOURCE_CARD = "SOURCE.md"
MAX_LEVELS = 4

_LICENSE_LINE = re.compile(r"^[\s>*-]*\**\s*licen[cs]e\b[^:\n]*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_CLAUSE_SPLIT = re.compile(r";\s+|\.\s+(?=[A-Z(`])|\s+--\s+")
_NOT_ABOUT_DATA = re.compile(r"\bcode\b|existed until|fork of", re.IGNORECASE)
_LICENSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bCC[ -]?BY(?P<mods>(?:[ -](?:NC|SA|ND))*)[ -](?P<ver>\d\.\d)\b", re.IGNORECASE), "cc-by"),
    (re.compile(r"\bCC0\b", re.IGNORECASE), "cc0-1.0"),
    (re.compile(r"\bApache(?:[ -]License)?,?(?:[ -]Version)?[ -]2\.0\b", re.IGNORECASE), "apache-2.0"),
    (re.compile(r"\bMIT\b"), "mit"),
    (re.compile(r"\b(?P<kind>A?GPL|LGPL)-?v?(?P<ver>\d(?:\.\d)?)\b"), "gpl"),
    (re.compile(r"\bBSD-(?P<n>\d)-Clause\b", re.IGNORECASE), "bsd"),
    (re.compile(r"\bGFDL\b"), "gfdl"),
)


def _normalise(pattern_id: str, match: re.Match[str]) -> str:
    if pattern_id == "cc-by":
        mods = "".join(f"-{m.lower()}" for m in re.findall(r"NC|SA|ND", match.group("mods").upper()))
        return f"cc-by{mods}-{match.group('ver')}"
    if pattern_id == "gpl":
        version = match.group("ver") if "." in match.group("ver") else f"{match.group('ver')}.0"
        return f"{match.group('kind').lower()}-{version}"
    if pattern_id == "bsd":
        return f"bsd-{match.group('n')}-clause"
    return pattern_id


def license_from_statement(statement: str) -> str:
    """The Hub-style license id a free-text license statement gives for the data, or ``"unknown"``."""
    cleaned = statement.replace("**", "").replace("`", "")
    for clause in _CLAUSE_SPLIT.split(cleaned):
        if _NOT_ABOUT_DATA.search(clause):
            continue
        found = [(m.start(), pid, m) for pattern, pid in _LICENSES for m in pattern.finditer(clause)]
        if found:
            _, pid, match = min(found, key=lambda item: item[0])
            return _normalise(pid, match)
    return UNKNOWN_LICENSE


def license_from_source_card(text: str) -> str:
    """The license of a ``SOURCE.md`` text (its first ``License…:`` line), or ``"unknown"``."""
    match = _LICENSE_LINE.search(text)
    return license_from_statement(match.group(1)) if match else UNKNOWN_LICENSE


@dataclass(frozen=True)
class Provenance:
    """Defaults for one file: ``source`` (dataset name), ``license``, and ``label`` (its path inside the dataset)."""

    source: str
    license: str
    label: str


def find_provenance(fs, file_path: str, fallback_source: str, cache: dict | None = None) -> Provenance:
    """Walk up from ``file_path`` (on fsspec filesystem ``fs``) to the nearest ``SOURCE.md`` (at most 4 levels)."""
    cache = {} if cache is None else cache
    directory = fs._parent(file_path)
    for _ in range(MAX_LEVELS):
        if directory in cache:
            found = cache[directory]
        else:
            card = f"{directory.rstrip('/')}/{SOURCE_CARD}"
            found = None
            try:
                if fs.isfile(card):
                    with fs.open(card, "rb") as handle:
                        found = license_from_source_card(handle.read().decode("utf-8", errors="replace"))
            except OSError:
                found = None
            cache[directory] = found
        if found is not None:
            name = directory.rstrip("/").rsplit("/", 1)[-1]
            return Provenance(source=name, license=found, label=file_path[len(directory.rstrip("/")) + 1 :])
        parent = fs._parent(directory)
        if not parent or parent == directory:
            break
        directory = parent
    return Provenance(source=fallback_source, license=UNKNOWN_LICENSE, label=file_path.rsplit("/", 1)[-1])
