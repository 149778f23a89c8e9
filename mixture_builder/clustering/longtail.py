"""Long-tail diversity score: how far a record lies from its nearest neighbours.

Score = mean cosine distance (1 − cosine similarity) to the ``k`` nearest other records, min-max normalised
to [0, 1] over the set (paper default k = 15). High scores are rare, long-tail records. Exact search (faiss
flat inner product, chunked) up to ``exact_limit`` records; above it an IVF index (``nprobe`` lists) keeps the
cost near-linear.
"""

from __future__ import annotations

import math

import numpy as np

from mixture_builder.clustering.capacity import as_unit_rows
from mixture_builder.errors import ConfigError

_CHUNK = 16384


def knn_mean_distance(
    embeddings: np.ndarray, k: int = 15, *, exact_limit: int = 100_000, nprobe: int = 16, seed: int = 42
) -> np.ndarray:
    """Mean cosine distance of each row to its ``k`` nearest other rows (not normalised)."""
    import faiss

    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}", field="long_tail_k", fix="use e.g. 15")
    x = as_unit_rows(embeddings)
    n, d = x.shape
    if n <= 1:
        return np.zeros(n, dtype=np.float32)
    k = min(k, n - 1)
    if n <= exact_limit:
        index = faiss.IndexFlatIP(d)
    else:
        nlist = int(4 * math.sqrt(n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, size=min(n, nlist * 64), replace=False))
        index.cp.seed = seed
        index.cp.min_points_per_centroid = 1
        index.train(x[sample])
        index.nprobe = nprobe
    index.add(x)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, _CHUNK):
        block = x[start:start + _CHUNK]
        sims, ids = index.search(block, k + 1)
        rows = np.arange(start, start + len(block))[:, None]
        not_self = ids != rows
        # drop the record itself (or, with exact duplicates, one extra neighbour) and keep k neighbours
        keep = np.cumsum(not_self, axis=1) <= k
        mask = not_self & keep & (ids >= 0)
        dist = np.where(mask, 1.0 - sims, 0.0).sum(axis=1)
        out[start:start + len(block)] = dist / np.maximum(mask.sum(axis=1), 1)
    return out


def long_tail_scores(embeddings: np.ndarray, k: int = 15, **search: int) -> np.ndarray:
    """Long-tail scores in [0, 1]: :func:`knn_mean_distance` min-max normalised (all 0 when constant)."""
    raw = knn_mean_distance(embeddings, k, **search)
    if raw.size == 0:
        return raw
    low, high = float(raw.min()), float(raw.max())
    if high - low < 1e-12:
        return np.zeros_like(raw)
    return ((raw - low) / (high - low)).astype(np.float32)
