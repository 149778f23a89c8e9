"""Which document metadata each pipeline step reads and writes, checked when a pipeline is built.

A step declares ``reads`` (keys it needs on every document) and ``writes`` (keys it adds), as distilabel
tasks declare their columns; readers declare what their format produces. :func:`check_metadata_flow` walks
the stages of a job in order and fails with one line naming the step and the key when a step would read a key
no earlier step writes, instead of the step silently falling back on something else at run time. Steps that
declare nothing are transparent (datatrove's own writers, filters and stage readers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mixture_builder.errors import ConfigError


def check_metadata_flow(stages: Sequence[Iterable[Any]], *, provided: Iterable[str] = ()) -> None:
    """Raise :class:`ConfigError` when a step of ``stages`` (pipelines in run order) reads a metadata key
    that neither ``provided`` nor an earlier step writes."""
    available = set(provided)
    for stage in stages:
        for step in stage:
            missing = sorted(set(getattr(step, "reads", ())) - available)
            if missing:
                name = getattr(step, "name", type(step).__name__)
                raise ConfigError(
                    f"step '{name}' reads document metadata {', '.join(repr(k) for k in missing)}, which no earlier "
                    "step writes",
                    fix="put a step that writes it (e.g. a reader of the right format) before this one",
                )
            available.update(getattr(step, "writes", ()))
