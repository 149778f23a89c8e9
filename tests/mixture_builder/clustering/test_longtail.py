"""Long-tail scores: outliers score high, normalisation, exact vs. IVF search agree."""

from __future__ import annotations

import numpy as np

from mixture_builder.clustering.longtail import knn_mean_distance, long_tail_scores

from .conftest import topical_embeddings


def test_outliers_get_the_highest_scores() -> None:
    x = topical_embeddings(1500, topics=15, seed=0)
    rng = np.random.default_rng(1)
    outliers = rng.standard_normal((5, x.shape[1])).astype(np.float32)
    x = np.vstack([x, outliers / np.linalg.norm(outliers, axis=1, keepdims=True)])
    scores = long_tail_scores(x, k=15)
    assert scores.dtype == np.float32 and scores.min() == 0.0 and scores.max() == 1.0
    assert set(np.argsort(-scores)[:5].tolist()) == set(range(1500, 1505))


def test_matches_a_direct_computation() -> None:
    x = topical_embeddings(300, seed=2)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    top = np.sort(sims, axis=1)[:, ::-1][:, :15]
    expected = (1.0 - top).mean(axis=1)
    assert np.allclose(knn_mean_distance(x, 15), expected, atol=1e-5)


def test_approximate_search_agrees_with_exact() -> None:
    x = topical_embeddings(4000, topics=50, seed=3)
    exact = long_tail_scores(x)
    approx = long_tail_scores(x, exact_limit=1000)
    assert np.corrcoef(exact, approx)[0, 1] > 0.98


def test_edge_cases() -> None:
    assert long_tail_scores(np.zeros((0, 8), dtype=np.float32)).shape == (0,)
    assert long_tail_scores(np.eye(1, 8, dtype=np.float32)).tolist() == [0.0]
    same = np.tile(np.eye(1, 8, dtype=np.float32), (20, 1))
    assert long_tail_scores(same).tolist() == [0.0] * 20
    assert long_tail_scores(np.eye(3, 8, dtype=np.float32), k=15).shape == (3,)  # k > n - 1
