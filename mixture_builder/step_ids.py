"""Stable step ids: stage tables look steps up by id, never by their display names.

datatrove files each step's stats under its display name (``"{type}: {name}"``). A project step declares
``step_id = "normalise"`` next to its ``name`` (a library step gets one on the instance); :func:`tag_steps`
appends it to the stats name (``"… [normalise]"``) when a pipeline is handed to an executor, and
:func:`totals_of` finds a step's counts by that id, so renaming a step changes no stage table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

_ID = re.compile(r" \[([a-z0-9_.-]+)\]$")


def tag_steps(pipeline: Iterable[Any]) -> list[Any]:
    """``pipeline`` with each step's stats filed under ``"{display name} [{step_id}]"`` (steps with an id)."""
    steps = list(pipeline)
    for step in steps:
        step_id = getattr(step, "step_id", None)
        stats = getattr(step, "stats", None)
        if step_id and stats is not None and not _ID.search(stats.name):
            stats.name = f"{stats.name} [{step_id}]"
    return steps


def step_id_of(stats_name: str) -> str | None:
    """The id in a stats name written by :func:`tag_steps` (``None`` for untagged steps)."""
    match = _ID.search(stats_name)
    return match.group(1) if match else None


def totals_of(totals: dict[str, dict[str, int]], step_id: str) -> dict[str, int]:
    """The labels of the steps with ``step_id`` in ``{stats name: {label: total}}``, summed (several readers,
    or the exact and the near duplicate filter, add up)."""
    out: Counter[str] = Counter()
    for name, labels in totals.items():
        if step_id_of(name) == step_id:
            out.update(labels)
    return dict(out)
