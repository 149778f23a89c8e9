"""The paper's clustering algorithm, implemented literally (the reference and benchmark baseline).

scikit-learn ``MiniBatchKMeans`` with K = N / mean, capacities ~ Normal(mean, std) clipped to
[min_size, max_size], greedy assignment over **all** N×K point–centroid distances in ascending order, then
clusters under ``min_size`` dissolved and their points moved to the nearest kept cluster with room (growing
up to ``max_size`` when the drawn capacities are used up). Memory and time grow with N²; use
:func:`mixture_builder.clustering.capacity.capacity_clusters` for real pools.
"""

from __future__ import annotations

import math

import numpy as np

from mixture_builder.clustering.capacity import CapacityConfig, as_unit_rows, draw_capacities


def reference_capacity_clusters(embeddings: np.ndarray, config: CapacityConfig | None = None) -> np.ndarray:
    """Cluster labels (0..C-1) by the literal algorithm; same remainder rule as ``capacity_clusters``."""
    from sklearn.cluster import MiniBatchKMeans

    cfg = config or CapacityConfig()
    x = as_unit_rows(embeddings)
    n = x.shape[0]
    if n <= max(cfg.min_size, 1):
        return np.zeros(n, dtype=np.int64)
    k = max(1, round(n / cfg.mean))
    rng = np.random.default_rng(cfg.seed)
    kmeans = MiniBatchKMeans(n_clusters=k, random_state=cfg.seed)
    kmeans.fit(x)
    centers = kmeans.cluster_centers_.astype(np.float32)
    dist = (x @ centers.T) * -2.0
    dist += np.einsum("ij,ij->i", centers, centers)[None, :]
    dist += 1.0  # |x|² of unit rows; squared distances order the pairs like distances
    capacity = draw_capacities(k, cfg, rng)

    labels = np.full(n, -1, dtype=np.int64)
    _greedy(dist, labels, capacity.copy())
    for limit in (capacity, np.full(k, cfg.max_size)):  # drawn capacities used up: grow up to max_size
        _greedy(dist, labels, limit - np.bincount(labels[labels >= 0], minlength=k))

    sizes = np.bincount(labels[labels >= 0], minlength=k)
    kept = sizes >= cfg.min_size
    if not kept.any():
        kept[np.argmax(sizes)] = True
    small = ~kept & (sizes > 0)
    if small.any():
        labels[(labels >= 0) & small[np.maximum(labels, 0)]] = -1
        dist[:, ~kept] = np.inf
        for limit in (capacity, np.full(k, cfg.max_size)):
            room = np.where(kept, limit - np.bincount(labels[labels >= 0], minlength=k), 0)
            _greedy(dist, labels, room)
    leftover = np.flatnonzero(labels < 0)  # remainder: every kept cluster is full at max_size
    if leftover.size:
        for i, chunk in enumerate(np.array_split(leftover, math.ceil(leftover.size / cfg.max_size))):
            labels[chunk] = k + i
    return np.unique(labels, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _greedy(dist: np.ndarray, labels: np.ndarray, room: np.ndarray) -> None:
    """Assign unassigned points nearest-pair-first while clusters have ``room`` (updated in place)."""
    pending = np.flatnonzero(labels < 0)
    if pending.size == 0 or not (room > 0).any():
        return
    k = dist.shape[1]
    sub = dist[pending]
    order = np.argsort(sub, axis=None, kind="stable")
    finite = np.isfinite(sub).ravel()
    free = np.ones(pending.size, dtype=bool)
    todo = pending.size
    for start in range(0, order.size, 1 << 20):
        # cheap vectorised pre-filter with the state at the chunk start; the exact check is in the loop
        chunk = order[start:start + (1 << 20)]
        rows, clusters = np.divmod(chunk, k)
        alive = free[rows] & (room[clusters] > 0) & finite[chunk]
        for row, cluster in zip(rows[alive].tolist(), clusters[alive].tolist()):
            if free[row] and room[cluster] > 0:
                free[row] = False
                room[cluster] -= 1
                labels[pending[row]] = cluster
                todo -= 1
        if todo == 0 or not (room > 0).any():
            return
