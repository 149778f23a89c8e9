"""Building blocks of :func:`~mixture_builder.clustering.capacity.capacity_clusters`: partition, k-means,
candidate lists, assignment rounds under capacities, and the final repair (see capacity.py's docstring)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

CHUNK = 32768  # rows per block in dense similarity searches (bounds memory at CHUNK × centroids)


class LeafPool:
    """Runs per-leaf work on ``threads`` threads while BLAS and faiss are held to one thread each: many
    small independent problems scale far better this way than with nested multi-threaded kernels (and do
    not collapse when the cores are shared with other processes). Restores the thread settings on exit."""

    def __init__(self, threads: int = 0):
        self.threads = threads or os.cpu_count() or 1

    def __enter__(self) -> LeafPool:  # noqa: PYI034
        import faiss
        from threadpoolctl import threadpool_limits

        self._faiss_threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        self._limits = threadpool_limits(1)
        self._executor = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        return self

    def __exit__(self, *exc: object) -> None:
        import faiss

        if self._executor is not None:
            self._executor.shutdown()
        self._limits.restore_original_limits()
        faiss.omp_set_num_threads(self._faiss_threads)

    def map(self, fn: Callable[..., Any], *items: Iterable[Any]) -> list[Any]:
        if self._executor is None:
            return list(map(fn, *items))
        return list(self._executor.map(fn, *items))


def spherical_kmeans(x: np.ndarray, k: int, *, iters: int, seed: int, max_points: int = 256) -> np.ndarray:
    """``k`` unit-norm centroids of the rows of ``x`` (faiss; trains on at most ``max_points`` per centroid;
    ``iters=0`` returns a seeded random sample of the rows)."""
    import faiss

    k = max(1, min(k, x.shape[0]))
    if iters == 0:
        rows = np.sort(np.random.default_rng(seed).choice(x.shape[0], size=k, replace=False))
        return np.ascontiguousarray(x[rows])
    if k == 1:
        c = x.mean(axis=0, keepdims=True)
        return (c / max(float(np.linalg.norm(c)), 1e-12)).astype(np.float32)
    km = faiss.Kmeans(x.shape[1], k, niter=iters, seed=seed, spherical=True, verbose=False,
                      min_points_per_centroid=1, max_points_per_centroid=max_points)
    km.train(np.ascontiguousarray(x))
    return np.ascontiguousarray(km.centroids, dtype=np.float32)


def top_similar(
    x: np.ndarray, centroids: np.ndarray, m: int, pool: LeafPool | None = None, chunk: int = CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the ``m`` most similar centroids (indices, similarities), best first; chunked (chunks
    run on ``pool`` when given)."""
    n, k = x.shape[0], centroids.shape[0]
    m = min(m, k)
    ids = np.empty((n, m), dtype=np.int64)
    sims = np.empty((n, m), dtype=np.float32)

    def block(start: int) -> None:
        scores = x[start:start + chunk] @ centroids.T
        if m < k:
            part = np.argpartition(-scores, m - 1, axis=1)[:, :m]
        else:
            part = np.broadcast_to(np.arange(k), scores.shape).copy()
        vals = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        ids[start:start + len(scores)] = np.take_along_axis(part, order, axis=1)
        sims[start:start + len(scores)] = np.take_along_axis(vals, order, axis=1)

    starts = range(0, n, chunk)
    if pool is None:
        for start in starts:
            block(start)
    else:
        pool.map(block, starts)
    return ids, sims


def group_by(keys: np.ndarray, k: int) -> list[np.ndarray]:
    """Row indices per key value 0..k-1 (negative keys ignored)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)]


def partition(
    x: np.ndarray, leaf_size: int, iters: int, rng: np.random.Generator, pool: LeafPool
) -> tuple[list[np.ndarray], np.ndarray]:
    """Split the rows into leaves of about ``leaf_size`` rows (spherical k-means on a sample; oversized
    cells are split again). Returns the leaves and, per row, its second-nearest leaf (−1: none)."""
    n = x.shape[0]
    k = math.ceil(n / leaf_size)
    if k <= 1:
        return [np.arange(n)], np.full(n, -1, dtype=np.int64)
    sample = np.sort(rng.choice(n, size=min(n, k * 64), replace=False))
    cents = spherical_kmeans(x[sample], k, iters=iters, seed=int(rng.integers(2**31)))
    nearest = top_similar(x, cents, 1, pool, chunk=4096)[0][:, 0]
    leaves: list[np.ndarray] = []
    for cell in group_by(nearest, len(cents)):
        leaves.extend(_split(x, cell, leaf_size, iters, rng))
    leaves = [leaf for leaf in leaves if len(leaf)]
    leaf_cents = np.stack([_unit(x[leaf].sum(axis=0)) for leaf in leaves])
    own = np.empty(n, dtype=np.int64)
    for i, leaf in enumerate(leaves):
        own[leaf] = i
    ids = top_similar(x, leaf_cents, 2, pool, chunk=4096)[0]
    second = np.where(ids[:, 0] == own, ids[:, 1], ids[:, 0])
    return leaves, second


def _split(x: np.ndarray, idx: np.ndarray, leaf_size: int, iters: int, rng: np.random.Generator) -> list:
    """``idx`` itself when small enough, else recursively split by k-means (evenly when degenerate)."""
    if len(idx) <= 2 * leaf_size:
        return [idx]
    k = math.ceil(len(idx) / leaf_size)
    sample = idx if len(idx) <= k * 64 else np.sort(rng.choice(idx, size=k * 64, replace=False))
    cents = spherical_kmeans(x[sample], k, iters=iters, seed=int(rng.integers(2**31)))
    nearest = top_similar(x[idx], cents, 1)[0][:, 0]
    parts = [idx[p] for p in group_by(nearest, len(cents)) if len(p)]
    if len(parts) == 1:
        return list(np.array_split(idx, k))
    return [leaf for part in parts for leaf in _split(x, part, leaf_size, iters, rng)]


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def leaf_centroids(
    x: np.ndarray, leaves: list[np.ndarray], mean: float, iters: int, rng: np.random.Generator, pool: LeafPool,
    max_points: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """round(n_leaf / mean) k-means centroids per leaf (trained on at most ``max_points`` per centroid);
    returns all centroids and each leaf's first index."""
    seeds = rng.integers(2**31, size=len(leaves)).tolist()

    def train(leaf: np.ndarray, seed: int) -> np.ndarray:
        return spherical_kmeans(x[leaf], max(1, round(len(leaf) / mean)), iters=iters, seed=seed,
                                max_points=max_points)

    cents = pool.map(train, leaves, seeds)
    offsets = np.cumsum([0] + [len(c) for c in cents])
    return np.concatenate(cents), offsets


def candidates(
    x: np.ndarray, leaves: list[np.ndarray], visitors: list[np.ndarray] | None, centroids: np.ndarray,
    offsets: np.ndarray, m: int, pool: LeafPool,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``m`` most similar centroids among its leaf's (and, with ``visitors``, its second leaf's)."""
    n = x.shape[0]
    width = m * (2 if visitors is not None else 1)
    cand = np.full((n, width), -1, dtype=np.int64)
    score = np.full((n, width), -np.inf, dtype=np.float32)

    def leaf_candidates(i: int) -> None:  # rows of different leaves are disjoint: safe in parallel
        cents = centroids[offsets[i]:offsets[i + 1]]
        for rows, col in ((leaves[i], 0), (visitors[i] if visitors is not None else None, m)):
            if rows is None or not len(rows):
                continue
            ids, sims = top_similar(x[rows], cents, m)
            cand[rows, col:col + ids.shape[1]] = ids + offsets[i]
            score[rows, col:col + ids.shape[1]] = sims

    pool.map(leaf_candidates, range(len(leaves)))
    if visitors is None:
        return cand, score
    order = np.argsort(-score, axis=1, kind="stable")[:, :m]
    return np.take_along_axis(cand, order, axis=1), np.take_along_axis(score, order, axis=1)


def cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """float64 sum of the rows of each label 0..k-1 (rows with label −1 ignored), as a sparse product."""
    from scipy.sparse import csr_matrix

    rows = np.flatnonzero(labels >= 0)
    # float32 weights: a float64 matrix would make scipy upcast all of x (N×d×8 bytes)
    members = csr_matrix((np.ones(len(rows), dtype=x.dtype), (labels[rows], rows)), shape=(k, x.shape[0]))
    return np.asarray(members @ x, dtype=np.float64)


def member_centroids(x: np.ndarray, labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Unit-norm mean of each cluster's members (the previous centroid for empty clusters)."""
    sums = cluster_sums(x, labels, len(previous)) + previous * 1e-6
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def assign_rounds(cand: np.ndarray, score: np.ndarray, room: np.ndarray, labels: np.ndarray) -> None:
    """Vectorised greedy: unassigned points propose to their next candidate; clusters accept the most
    similar proposers up to ``room``. Updates ``labels`` (−1 = unassigned) and ``room`` in place."""
    pending = np.flatnonzero(labels < 0)
    for r in range(cand.shape[1]):
        if pending.size == 0:
            return
        c = cand[pending, r]
        valid = c >= 0
        c_safe = np.where(valid, c, 0)
        order = np.lexsort((-np.where(valid, score[pending, r], -np.inf), c_safe))
        cs = c_safe[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        rank = np.arange(len(cs)) - np.repeat(starts, np.diff(np.r_[starts, len(cs)]))
        accepted = order[(rank < room[cs]) & valid[order]]
        labels[pending[accepted]] = c[accepted]
        room -= np.bincount(c[accepted], minlength=len(room))
        rejected = np.ones(len(pending), dtype=bool)
        rejected[accepted] = False
        pending = pending[rejected]


def place(
    x: np.ndarray, points: np.ndarray, labels: np.ndarray, centroids: np.ndarray, room: np.ndarray,
    allowed: np.ndarray, m: int,
) -> np.ndarray:
    """Put ``points`` into the most similar allowed clusters that still have ``room``; returns the points
    that found no room anywhere."""
    import faiss

    points = points[labels[points] < 0]
    while points.size:
        open_ids = np.flatnonzero(allowed & (room > 0))
        if open_ids.size == 0:
            return points
        index = faiss.IndexFlatIP(centroids.shape[1])
        index.add(np.ascontiguousarray(centroids[open_ids]))
        sims, ids = index.search(np.ascontiguousarray(x[points]), min(m, open_ids.size))
        sub_labels = np.full(len(points), -1, dtype=np.int64)
        assign_rounds(np.where(ids >= 0, open_ids[np.maximum(ids, 0)], -1), sims, room, sub_labels)
        labels[points] = sub_labels
        points = points[sub_labels < 0]
    return points


def finalize(
    x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, capacity: np.ndarray, min_size: int,
    max_size: int, m: int,
) -> np.ndarray:
    """Place leftovers, dissolve clusters under ``min_size``, handle the remainder; contiguous labels."""
    k = len(centroids)
    m = max(m, 8)

    def fill(points: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        for limit in (capacity, max_size):  # drawn capacities first, then growth up to max_size
            if points.size:
                room = limit - np.bincount(labels[labels >= 0], minlength=k)
                points = place(x, points, labels, centroids, room, allowed, m)
        return points

    leftover = fill(np.flatnonzero(labels < 0), np.ones(k, dtype=bool))
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    kept = sizes >= min_size
    if not kept.any():
        kept[np.argmax(sizes)] = True
    small = ~kept & (sizes > 0)
    if small.any():
        loose = np.flatnonzero((labels >= 0) & small[np.maximum(labels, 0)])
        labels[loose] = -1
        leftover = np.concatenate([leftover, fill(loose, kept)])
    if leftover.size:  # remainder: every kept cluster is full at max_size
        for i, chunk in enumerate(np.array_split(leftover, math.ceil(leftover.size / max_size))):
            labels[chunk] = k + i
    return np.unique(labels, return_inverse=True)[1].astype(np.int64).reshape(-1)
