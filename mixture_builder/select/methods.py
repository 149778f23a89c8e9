"""The selection baselines over the rows of a deduplicated, scored pool (pure functions, deterministic).

Rows are the distill output rows of original samples (``distill.select.original_row``): ``id``, ``quality``
(0–5), ``long_tail`` and the rest. ``existing`` maps a row id to the raw value of its existing score (e.g.
CaR's IQS score before rounding to 0–5), which orders ``top-k`` within one quality level.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from mixture_builder.distill.select import rank
from mixture_builder.select.config import SelectionConfig, check_method

Row = dict[str, Any]


def target_size(selection: SelectionConfig, method: str, pool_size: int) -> int:
    """Rows the method takes from a pool of ``pool_size``: all for ``full``; else ``size`` or
    ``round(fraction × pool)`` (at least 1), capped at the pool."""
    if method == "full" or pool_size == 0:
        return pool_size
    if selection.size is not None:
        return min(selection.size, pool_size)
    assert selection.fraction is not None  # SelectionConfig guarantees one of them for sized methods
    return min(pool_size, max(1, round(selection.fraction * pool_size)))


def _by_id(rows: Sequence[Row]) -> list[Row]:
    """A canonical order (by id), so results do not depend on how the pool was sharded."""
    return sorted(rows, key=lambda r: r["id"])


def random_rows(rows: Sequence[Row], n: int, seed: int) -> list[Row]:
    """``n`` rows drawn uniformly without replacement with ``random.Random(seed)``, in id order."""
    pool = _by_id(rows)
    picked = set(random.Random(seed).sample(range(len(pool)), n))
    return [row for i, row in enumerate(pool) if i in picked]


def top_k_rows(rows: Sequence[Row], n: int, seed: int, existing: Mapping[str, float] | None = None) -> list[Row]:
    """The ``n`` highest-quality rows, best first (AlpaGasus keeps the top-rated samples). Within one quality
    level, a higher raw existing score comes first, then a seeded random order (no length or source bias)."""
    pool = _by_id(rows)
    rng = random.Random(seed)
    draw = {row["id"]: rng.random() for row in pool}
    existing = existing or {}
    return sorted(pool, key=lambda r: (-(r["quality"] if r["quality"] is not None else -1),
                                       -existing.get(r["id"], 0.0), draw[r["id"]]))[:n]


def ds2_rows(rows: Sequence[Row], n: int) -> list[Row]:
    """The ``n`` best rows by quality, then long-tail diversity score (DS2's ranking), best first; the same
    order distill ranks its own rows by. Rows need ``long_tail`` set (``distill.select.add_long_tail``)."""
    return rank(rows)[:n]


def select_rows(method: str, rows: Sequence[Row], selection: SelectionConfig,
                existing: Mapping[str, float] | None = None) -> list[Row]:
    """The rows ``method`` keeps (see :data:`~mixture_builder.select.config.METHODS`)."""
    check_method(method)
    n = target_size(selection, method, len(rows))
    if method == "random":
        return random_rows(rows, n, selection.seed)
    if method == "top-k":
        return top_k_rows(rows, n, selection.seed, existing)
    if method == "ds2":
        return ds2_rows(rows, n)
    return _by_id(rows)
