"""License strings found in the data → the Hub's license ids for a card's YAML.

Records carry free-text licenses (``"CC BY-NC 4.0"``, ``"Apache-2.0"``, or several joined for a record that
mixes sources, e.g. ``"cc-by-sa-3.0; cc-by-nc-4.0"``). Each part maps to one of the Hub's license ids
(https://huggingface.co/docs/hub/repositories-licenses); parts without an id become ``other`` and are named
in ``license_name``/``license_link`` and in the card body, so no license present in the data is dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

HUB_LICENSE_IDS: frozenset[str] = frozenset(
    """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
    cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0
    eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research
    lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa
    unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma
    unknown other
    """.split()  # noqa: SIM905 (one id per word reads better than a 80-item list literal)
)
"""License ids the Hub accepts in the ``license`` field."""

_ALIASES: dict[str, str] = {
    "apache": "apache-2.0",
    "apache2": "apache-2.0",
    "apache-2": "apache-2.0",
    "apache-license-2.0": "apache-2.0",
    "apache-license-version-2.0": "apache-2.0",
    "mit-license": "mit",
    "cc0": "cc0-1.0",
    "public-domain": "cc0-1.0",
    "gfdl-1.3": "gfdl",
    "gnu-fdl": "gfdl",
    "gpl3": "gpl-3.0",
    "gplv3": "gpl-3.0",
    "gpl-3": "gpl-3.0",
    "gpl2": "gpl-2.0",
    "gplv2": "gpl-2.0",
    "odc-by-1.0": "odc-by",
    "odbl-1.0": "odbl",
    "": "unknown",
    "none": "unknown",
    "n/a": "unknown",
    "unspecified": "unknown",
}

# Separators between the licenses of a record that mixes sources ("/", "-" and a bare "+" occur inside ids).
_SPLIT_RE = re.compile(r"\s*(?:;|,|\||&)\s*|\s+(?:\+|and|AND|or|OR)\s+")


def split_license_string(value: str) -> list[str]:
    """``"CC BY-SA 3.0; Apache-2.0"`` → ``["CC BY-SA 3.0", "Apache-2.0"]`` (order kept, blanks dropped)."""
    return [part.strip() for part in _SPLIT_RE.split(value) if part and part.strip()]


def to_hub_license_id(value: str) -> str | None:
    """One license name → its Hub id (``"CC BY-NC 4.0"`` → ``"cc-by-nc-4.0"``), or ``None`` if it has none."""
    key = value.strip().lower()
    key = re.sub(r"^(the\s+)?license[:\s]+", "", key)
    key = re.sub(r"\s+(license|licence)$", "", key)
    key = re.sub(r"[\s_]+", "-", key)
    key = re.sub(r"^creative-commons-", "cc-", key)
    key = re.sub(r"-v(?=\d)", "-", key)  # cc-by-sa-v3.0
    key = re.sub(r"-(\d)$", r"-\1.0", key) if key.startswith("cc-") else key  # cc-by-4 → cc-by-4.0
    if key in HUB_LICENSE_IDS:
        return key
    return _ALIASES.get(key)


def split_license_counts(raw_counts: Mapping[Any, int]) -> Counter[str]:
    """``{raw license value: rows}`` → ``{license part: rows}``; a combined value counts once per part,
    a null or blank value as ``unknown``."""
    counts: Counter[str] = Counter()
    for value, n in raw_counts.items():
        parts = split_license_string(str(value)) if value is not None else []
        for part in parts or ["unknown"]:
            counts[part] += n
    return counts


def license_counts(values: Iterable[Any]) -> Counter[str]:
    """Count every license part in a column's values (strings, lists of strings or nulls)."""
    raw: Counter[Any] = Counter()
    for value in values:
        raw.update(value if isinstance(value, (list, tuple)) else [value])
    return split_license_counts(raw)


def slugify(text: str) -> str:
    """A Hub ``license_name`` slug: lowercase letters, digits and dashes."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9.]+", "-", text.lower())).strip("-.") or "other"


def license_metadata(counts: Mapping[str, int], declared: Iterable[str] = ()) -> dict[str, Any]:
    """YAML fields for all licenses in ``counts`` (raw names → rows) plus ``declared`` ones.

    Returns ``{"license": id | [ids], "license_name": ..., "license_link": ...}``; the last two only when a
    license has no Hub id (then ``other`` is listed). ``license_link`` points at the card's license table.
    """
    ids: list[str] = []
    unmapped: list[str] = []
    for name in [*declared, *sorted(counts, key=lambda n: (-counts[n], n))]:
        hub_id = to_hub_license_id(name)
        if hub_id is None:
            hub_id = "other"
            if name not in unmapped:
                unmapped.append(name)
        if hub_id not in ids:
            ids.append(hub_id)
    if not ids:
        return {}
    fields: dict[str, Any] = {"license": ids[0] if len(ids) == 1 else ids}
    if unmapped:
        fields["license_name"] = slugify(unmapped[0]) if len(unmapped) == 1 else "multiple-source-licenses"
        fields["license_link"] = "README.md#licenses"
    return fields


def license_table(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """Rows for the card's license table: raw name, Hub id (or ``other``), record count."""
    return [
        {"name": name, "hub_id": to_hub_license_id(name) or "other", "records": count}
        for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
