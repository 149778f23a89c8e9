"""Capacity-constrained clustering at scale, against a straightforward baseline of the paper's algorithm.

    python benchmarks/cluster_scale.py [N] [--baseline-n 30000] [--dim 384] [--seed 0]

Generates N unit vectors with topical structure (domains → topics → records: 64 domains, topics of ~50
records; records of a topic have cosine ≈ 0.5, of a domain ≈ 0.25, otherwise ≈ 0), clusters them with the
default ``CapacityConfig`` and prints wall time, peak memory beyond the matrix (RSS sampled every 5 ms), the
cluster-size histogram and the mean intra-cluster cosine similarity. Then, on the first ``--baseline-n``
points, runs the baseline (scikit-learn MiniBatchKMeans with K = N/10 + greedy assignment over all N×K
distances, :mod:`mixture_builder.clustering.reference`) and ours, and prints both. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections import Counter

import numpy as np

from mixture_builder.clustering.capacity import CapacityConfig, capacity_clusters, mean_intra_similarity
from mixture_builder.clustering.reference import reference_capacity_clusters


def topical_embeddings(n: int, dim: int = 384, domains: int = 64, topic_size: int = 50, seed: int = 0):
    """``n`` unit vectors: records around topics, topics around domains (see the module docstring)."""
    rng = np.random.default_rng(seed)
    topics = max(1, n // topic_size)
    domain_centres = rng.standard_normal((domains, dim), dtype=np.float32)
    domain_centres /= np.linalg.norm(domain_centres, axis=1, keepdims=True)
    topic_centres = domain_centres[rng.integers(0, domains, topics)]
    topic_centres += rng.standard_normal((topics, dim), dtype=np.float32) / np.sqrt(dim)
    topic_centres /= np.linalg.norm(topic_centres, axis=1, keepdims=True)
    x = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):  # in blocks, to keep the generator's own memory small
        m = min(65536, n - start)
        block = topic_centres[rng.integers(0, topics, m)]
        block += rng.standard_normal((m, dim), dtype=np.float32) / np.sqrt(dim)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        x[start:start + m] = block
    return x


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Peak resident memory above the level at entry, sampled by a background thread."""

    def __enter__(self) -> PeakRss:  # noqa: PYI034
        self.start = _rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def beyond_gb(self) -> float:
        return (self.peak - self.start) / 2**30


def timed(fn, x, cfg):
    start = time.perf_counter()
    labels = fn(x, cfg)
    return labels, time.perf_counter() - start


def describe(name: str, x: np.ndarray, labels: np.ndarray, seconds: float) -> float:
    sizes = np.bincount(labels)
    hist = Counter(sizes.tolist())
    similarity = mean_intra_similarity(x, labels)
    print(f"[{name}] n={len(x):,} clusters={len(sizes):,} sizes {sizes.min()}..{sizes.max()} "
          f"(mean {sizes.mean():.2f}) time {seconds:.2f}s similarity {similarity:.4f}")
    print(f"[{name}] size histogram: " + " ".join(f"{s}:{hist[s]}" for s in sorted(hist)))
    return similarity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=300_000)
    parser.add_argument("--baseline-n", type=int, default=30_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cfg = CapacityConfig()

    x = topical_embeddings(args.n, args.dim, seed=args.seed)
    capacity_clusters(topical_embeddings(2000, args.dim, seed=1), cfg)  # warm-up: load faiss/scipy first
    print(f"matrix: {x.shape[0]:,} × {x.shape[1]} float32 = {x.nbytes / 2**30:.2f} GB; cores: {os.cpu_count()}")
    with PeakRss() as mem:
        labels, seconds = timed(capacity_clusters, x, cfg)
    print(f"[ours] peak memory beyond the matrix: {mem.beyond_gb:.3f} GB")
    similarity_at_n = describe("ours", x, labels, seconds)

    bn = min(args.baseline_n, args.n)
    xb = np.ascontiguousarray(x[:bn])
    base_labels, base_seconds = timed(reference_capacity_clusters, xb, cfg)
    base_similarity = describe("baseline", xb, base_labels, base_seconds)
    ours_labels, ours_seconds = timed(capacity_clusters, xb, cfg)
    ours_similarity = describe("ours@baseline_n", xb, ours_labels, ours_seconds)
    speedup = base_seconds / ours_seconds
    print(f"at n={bn:,}: speedup {speedup:.1f}×, similarity ours {ours_similarity:.4f} vs baseline "
          f"{base_similarity:.4f}")
    print(json.dumps({
        "n": args.n, "seconds": round(seconds, 3), "peak_gb_beyond_matrix": round(mem.beyond_gb, 3),
        "similarity_at_n": round(similarity_at_n, 5), "baseline_n": bn, "baseline_seconds": round(base_seconds, 3),
        "ours_seconds_at_baseline_n": round(ours_seconds, 3), "speedup": round(speedup, 2),
        "similarity": round(ours_similarity, 5), "baseline_similarity": round(base_similarity, 5),
    }))


if __name__ == "__main__":
    main()
