"""Capacity-constrained clustering: groups of ``min_size``..``max_size`` similar records.

The paper's algorithm (DESIGN.md §1): k-means with K ≈ N / mean, capacities drawn per cluster from
Normal(mean, std) rounded and clipped to [min_size, max_size], greedy assignment of points to centroids
nearest-first under those capacities, then clusters under ``min_size`` are dissolved and their points
reassigned. :mod:`.reference` implements it literally (all N×K distances); this module implements it to
scale:

1. **Partition** the points with spherical k-means trained on a sample (faiss) into leaves of about
   ``leaf_size`` points (oversized cells are split again); each point also notes its second-nearest leaf.
2. **Fine centroids** per leaf: spherical k-means with round(n_leaf / mean) centroids, each with a capacity.
   Each point keeps its ``candidates`` most similar centroids among its leaf's and its second leaf's (so
   topics cut by a leaf border still meet) — never an N×K matrix.
3. **Assignment** in proposal rounds (vectorised greedy): every unassigned point proposes to its next
   candidate; each cluster accepts its most similar proposers up to its remaining capacity. Then
   ``refine_iters`` times: move each centroid to the mean of its members and assign again (capacity-
   constrained Lloyd steps; this is where most of the quality comes from).
4. **Repair**: points left over (all candidates full) go to the most similar centroid with room, found with a
   faiss search over the open clusters; if every capacity is used up, clusters may grow up to ``max_size``.
   Clusters under ``min_size`` are then dissolved and their points placed the same way.

Per-leaf work runs on a thread pool with single-threaded BLAS/faiss kernels (many small problems; robust
on shared cores). Cost ~ N·d·(leaf_size/mean)·(kmeans_iters + 2·(refine_iters + 1)); memory ~ N·candidates.

**Remainder case.** Every cluster has ``min_size <= size <= max_size`` except when that is impossible:
``N <= min_size`` (all points form one cluster of size N), or points that find every cluster they may join
already at ``max_size`` (e.g. ``min_size == max_size`` and N not a multiple of it) — those form extra
clusters of at most ``max_size`` points, and the last one may be smaller than ``min_size``. Every point is
in exactly one cluster, and results are deterministic for a seed (whatever the number of threads).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mixture_builder.clustering import assign
from mixture_builder.clustering.assign import cluster_sums
from mixture_builder.config_io import build_config, help_field, load_config
from mixture_builder.errors import ConfigError


@dataclass
class CapacityConfig:
    """Parameters of capacity-constrained clustering (paper defaults)."""

    min_size: int = help_field(
        "Smallest allowed cluster; smaller clusters are dissolved and reassigned.", default=2
    )
    max_size: int = help_field("Largest allowed cluster (capacities are clipped to it).", default=25)
    mean: float = help_field("Mean of the Normal capacities; also sets K = N / mean.", default=10.0)
    std: float = help_field("Standard deviation of the Normal capacities.", default=3.0)
    seed: int = help_field("Random seed (k-means initialisation, sampling, capacities).", default=42)
    leaf_size: int = help_field(
        "Points per partition leaf in which fine k-means runs (speed vs. quality).", default=1024
    )
    candidates: int = help_field(
        "Nearest fine centroids kept per point for the assignment rounds.", default=8
    )
    kmeans_iters: int = help_field("Lloyd iterations of each k-means.", default=5)
    kmeans_sample: int = help_field(
        "k-means of a leaf trains on at most this many points per centroid.", default=5
    )
    refine_iters: int = help_field(
        "Rounds of moving centroids to their assigned members and reassigning.", default=3
    )
    threads: int = help_field(
        "Worker threads over leaves (0: all cores); each runs single-threaded kernels.", default=0
    )
    neighbour_leaf: bool = help_field(
        "Also offer each point the centroids of its second-nearest leaf.", default=True
    )

    def __post_init__(self) -> None:
        def bad(name: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(problem, field=name, fix=fix)

        if not 1 <= self.min_size <= self.max_size:
            raise bad("min_size", f"need 1 <= min_size <= max_size, got {self.min_size} and {self.max_size}",
                      "e.g. min_size: 2, max_size: 25")
        if not self.min_size <= self.mean <= self.max_size:
            raise bad("mean", f"must lie in [min_size, max_size] = [{self.min_size}, {self.max_size}], "
                      f"got {self.mean}", "e.g. mean: 10")
        if self.std < 0:
            raise bad("std", f"must be >= 0, got {self.std}", "e.g. std: 3")
        if self.threads < 0:
            raise bad("threads", f"must be >= 0, got {self.threads}", "use 0 for all cores")
        if self.refine_iters < 0:
            raise bad("refine_iters", f"must be >= 0, got {self.refine_iters}", "use e.g. 2")
        for name in ("leaf_size", "candidates", "kmeans_iters", "kmeans_sample"):
            if getattr(self, name) < 1:
                raise bad(name, f"must be >= 1, got {getattr(self, name)}", "use a positive integer")
        if self.leaf_size < 4 * self.max_size:
            raise bad("leaf_size", f"must be >= 4 * max_size = {4 * self.max_size}, got {self.leaf_size}",
                      "use e.g. 1024")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None) -> CapacityConfig:
        """Build from a mapping (e.g. a YAML section); unknown keys are errors."""
        return build_config(cls, data or {}, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *, section: str | None = "clustering") -> CapacityConfig:
        """Load from YAML: its ``clustering:`` section when present (``section=None``: the whole file)."""
        return load_config(cls, path, section=section)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- public API
def capacity_clusters(embeddings: np.ndarray, config: CapacityConfig | None = None) -> np.ndarray:
    """Cluster labels (int64, 0..C-1) of the rows of ``embeddings`` (n × d, ideally L2-normalised).

    See the module docstring for the algorithm and the remainder case. Rows that are not unit vectors are
    normalised on a copy.
    """
    cfg = config or CapacityConfig()
    x = as_unit_rows(embeddings)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= cfg.min_size or n <= 1:
        return np.zeros(n, dtype=np.int64)
    rng = np.random.default_rng(cfg.seed)

    with assign.LeafPool(cfg.threads) as pool:
        leaves, second = assign.partition(x, cfg.leaf_size, cfg.kmeans_iters, rng, pool)
        centroids, offsets = assign.leaf_centroids(x, leaves, cfg.mean, cfg.kmeans_iters, rng, pool,
                                                   cfg.kmeans_sample)
        capacity = draw_capacities(len(centroids), cfg, rng)
        visitors = assign.group_by(second, len(leaves)) if cfg.neighbour_leaf else None
        for it in range(cfg.refine_iters + 1):
            cand, score = assign.candidates(x, leaves, visitors, centroids, offsets, cfg.candidates, pool)
            labels = np.full(n, -1, dtype=np.int64)
            assign.assign_rounds(cand, score, capacity.copy(), labels)
            del cand, score
            if it < cfg.refine_iters:
                centroids = assign.member_centroids(x, labels, centroids)
        return assign.finalize(x, labels, centroids, capacity, cfg.min_size, cfg.max_size, cfg.candidates)


def draw_capacities(k: int, config: CapacityConfig, rng: np.random.Generator) -> np.ndarray:
    """``k`` capacities ~ Normal(mean, std), rounded and clipped to [min_size, max_size]."""
    values = np.rint(rng.normal(config.mean, config.std, size=k))
    return np.clip(values, config.min_size, config.max_size).astype(np.int64)


def as_unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """float32 C-contiguous rows of unit norm (the input itself when it already is one)."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array (n × dim), got shape {x.shape}", field="embeddings",
                          fix="pass one vector per row")
    if x.shape[0] == 0:
        return x
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    if np.all(np.abs(norms - 1.0) < 1e-3):
        return x
    return x / np.maximum(norms, 1e-12)[:, None]


def cluster_members(labels: np.ndarray) -> list[np.ndarray]:
    """Row indices per cluster label (label order)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, bounds) if len(labels) else []


def mean_intra_similarity(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean pairwise cosine similarity inside clusters, weighted by cluster size (singletons ignored)."""

    x = as_unit_rows(x)
    if len(labels) == 0:
        return 0.0
    k = int(labels.max()) + 1
    sums = cluster_sums(x, labels, k)
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    ok = sizes > 1
    pair_means = (np.einsum("ij,ij->i", sums[ok], sums[ok]) - sizes[ok]) / (sizes[ok] * (sizes[ok] - 1))
    return float(np.average(pair_means, weights=sizes[ok])) if ok.any() else 0.0
