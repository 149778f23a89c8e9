"""The selection methods on hand-made rows: seeded random, top-k by quality (raw existing score, then a seeded
order within a level), DS2's quality-then-long-tail order, sizes by count or fraction."""

from __future__ import annotations

import pytest

from mixture_builder.select.config import SelectionConfig
from mixture_builder.select.methods import random_rows, select_rows, target_size, top_k_rows


def _rows(n: int = 40) -> list[dict]:
    return [{"id": f"pool/{i:03d}", "quality": i % 6, "long_tail": round((i * 37 % 41) / 41, 4)} for i in range(n)]


def _ids(rows) -> list[str]:
    return [r["id"] for r in rows]


def test_random_is_a_seeded_subset_independent_of_input_order():
    rows = _rows()
    first = random_rows(rows, 10, seed=1)
    assert len(set(_ids(first))) == 10 and set(_ids(first)) <= set(_ids(rows))
    assert _ids(first) == _ids(random_rows(list(reversed(rows)), 10, seed=1))  # sharding order does not matter
    assert _ids(first) != _ids(random_rows(rows, 10, seed=2))
    assert _ids(first) == sorted(_ids(first))


def test_top_k_takes_the_highest_quality_then_the_raw_existing_score():
    rows = _rows()
    chosen = top_k_rows(rows, 10, seed=0)
    assert [r["quality"] for r in chosen] == [5] * 6 + [4] * 4  # 6 rows have quality 5, then level 4
    level4 = [r for r in rows if r["quality"] == 4]
    # within a level: a higher raw existing score first (e.g. CaR's score before rounding)
    existing = {r["id"]: float(i) for i, r in enumerate(level4)}
    ranked = top_k_rows(rows, 10, seed=0, existing=existing)
    assert _ids(ranked[6:]) == _ids(list(reversed(level4)))[:4]
    # without raw scores, ties are broken by a seeded draw (not by id): other seeds pick other rows
    picks = {tuple(_ids(top_k_rows(rows, 8, seed=s)[6:])) for s in range(6)}
    assert len(picks) > 1
    assert _ids(top_k_rows(rows, 8, seed=3)) == _ids(top_k_rows(list(reversed(rows)), 8, seed=3))


def test_ds2_ranks_by_quality_then_long_tail():
    rows = _rows()
    chosen = select_rows("ds2", rows, SelectionConfig(methods=["ds2"], size=9))
    keys = [(r["quality"], r["long_tail"]) for r in chosen]
    assert keys == sorted(keys, reverse=True) and keys[0][0] == 5 and len(chosen) == 9
    best_level4 = max((r for r in rows if r["quality"] == 4), key=lambda r: r["long_tail"])
    assert chosen[6]["id"] == best_level4["id"]


def test_full_keeps_every_row_and_ignores_the_size():
    rows = _rows(12)
    assert _ids(select_rows("full", rows, SelectionConfig(methods=["full"], size=3))) == sorted(_ids(rows))


@pytest.mark.parametrize(("selection", "pool", "expected"), [
    ({"size": 10}, 40, 10),
    ({"size": 100}, 40, 40),  # capped at the pool
    ({"fraction": 0.25}, 40, 10),
    ({"fraction": 0.001}, 40, 1),  # at least one row
    ({"fraction": 1.0}, 40, 40),
    ({"size": 5}, 0, 0),
])
def test_target_size(selection, pool, expected):
    assert target_size(SelectionConfig(methods=["random"], **selection), "random", pool) == expected
