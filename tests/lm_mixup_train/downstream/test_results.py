"""Bootstrap intervals, paired differences, the average column and the outputs built from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lm_mixup_train.downstream.results import bar_chart, difference, estimate, markdown_tables, summarise


def _rows(values, group: str = "g", weights=None) -> list[dict]:
    return [{"group": group, "doc_id": i, "score": float(v), **({"weight": float(weights[i])} if weights is not None else {})}
            for i, v in enumerate(values)]


def test_interval_covers_the_true_mean_on_synthetic_data() -> None:
    rng = np.random.default_rng(0)
    covered = 0
    trials = 60
    for t in range(trials):
        sample = rng.binomial(1, 0.3, size=300)
        est = estimate(_rows(sample), samples=500, seed=t, key="x")
        assert est.ci[0] <= est.value <= est.ci[1]
        covered += est.ci[0] <= 0.3 <= est.ci[1]
    assert 0.85 <= covered / trials <= 1.0  # nominal 95%


def test_interval_shrinks_with_more_examples() -> None:
    rng = np.random.default_rng(1)
    small = estimate(_rows(rng.normal(size=50)), samples=500)
    large = estimate(_rows(rng.normal(size=2000)), samples=500)
    assert (large.ci[1] - large.ci[0]) < (small.ci[1] - small.ci[0]) / 3


def test_macro_weighted_and_paired() -> None:
    rows = _rows([1, 1, 1, 1], "a") + _rows([0, 0], "b")
    assert estimate(rows).value == pytest.approx(4 / 6)
    assert estimate(rows, macro=True).value == pytest.approx(0.5)
    weighted = estimate(_rows([1.0, 3.0], weights=[3, 1]))
    assert weighted.value == pytest.approx(1.5)  # ratio of sums: a per-token mean
    same = [estimate(_rows(np.arange(40) % 3), key="t") for _ in range(2)]
    diff = difference(*same)
    assert diff.value == 0 and diff.ci == (0.0, 0.0)  # same examples → same resamples


def test_summary_table_and_chart(tmp_path) -> None:
    rng = np.random.default_rng(2)
    table = {c: {t: estimate(_rows(rng.binomial(1, p, 100)), key=t) for t in ("gsm8k", "mmlu")}
             for c, p in (("distilled", 0.6), ("random", 0.4))}
    table["distilled"]["heldout_nll"] = estimate(_rows(rng.normal(2, 0.1, 50)), key="heldout_nll")
    table["random"]["heldout_nll"] = estimate(_rows(rng.normal(2.2, 0.1, 50)), key="heldout_nll")
    summary = summarise(table, "distilled")
    assert set(summary["results"]["random"]) == {"gsm8k", "mmlu", "heldout_nll", "average"}
    avg = summary["results"]["random"]["average"]
    assert avg["value"] == pytest.approx((summary["results"]["random"]["gsm8k"]["value"]
                                          + summary["results"]["random"]["mmlu"]["value"]) / 2)
    assert list(summary["differences"]) == ["random"]
    assert summary["differences"]["random"]["heldout_nll"]["value"] > 0
    json.dumps(summary)
    text = markdown_tables(summary, ["gsm8k", "mmlu", "heldout_nll"])
    assert "| candidate | gsm8k | mmlu | average | heldout_nll |" in text and "Difference to `distilled`" in text
    assert bar_chart(summary, ["gsm8k", "mmlu", "heldout_nll"], tmp_path / "r.png").stat().st_size > 1000


def test_micro_task_with_one_example_per_group_still_gets_an_interval() -> None:
    rows = [{"group": f"subject{i}", "doc_id": 0, "score": float(i % 3 == 0)} for i in range(57)]
    est = estimate(rows, samples=500)
    assert est.ci[0] < est.value < est.ci[1]
