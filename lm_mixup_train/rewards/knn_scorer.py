"""The paper's k-NN Bayesian quality scorer.

A library of rated samples (embeddings + integer scores 0–5) is searched for the k nearest neighbours of a new
text. Ratings are noisy, so the neighbours' scores are read through a label-transition matrix
``T[i, j] = P(rated j | true score i)`` estimated from the library itself, DS2-style: each library sample's
true score is proxied by the similarity-weighted consensus of its own k neighbours, and ``T`` counts how often a
sample's rating disagrees with that consensus. The posterior over the new text's true score is
``p(i | neighbours) ∝ prior(i) · Π_k T[i, y_k]``; its expectation maps to the reward (≥ 4 → 1.0, ≥ 3 → 0.3,
else 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NUM_SCORES = 6
"""Scores are integers 0–5 (the compressed rater scale)."""

DEFAULT_THRESHOLDS: tuple[tuple[float, float], ...] = ((4.0, 1.0), (3.0, 0.3))
"""(minimum expected score, reward) pairs, highest first; below all of them the reward is 0."""


def nearest_neighbours(
    library: np.ndarray, queries: np.ndarray, k: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product (cosine, for L2-normalised rows) k-NN with faiss → ``(similarities, indices)``, each
    ``(len(queries), k)``. ``exclude_self`` drops each query's own row when ``queries`` is the library."""
    import faiss

    index = faiss.IndexFlatIP(library.shape[1])
    index.add(np.ascontiguousarray(library, dtype=np.float32))
    extra = 1 if exclude_self else 0
    k_eff = min(k + extra, library.shape[0])
    sims, idx = index.search(np.ascontiguousarray(queries, dtype=np.float32), k_eff)
    if exclude_self:
        rows = []
        for n in range(len(queries)):
            keep = idx[n] != n
            rows.append((sims[n][keep][: k_eff - 1], idx[n][keep][: k_eff - 1]))
        sims = np.stack([r[0] for r in rows])
        idx = np.stack([r[1] for r in rows])
    return sims, idx


def consensus_labels(neighbour_scores: np.ndarray, neighbour_sims: np.ndarray) -> np.ndarray:
    """Each row's similarity-weighted majority score (weights clipped at 0; ties → the lower score)."""
    weights = np.clip(neighbour_sims, 0.0, None) + 1e-6
    votes = np.zeros((len(neighbour_scores), NUM_SCORES))
    for col in range(neighbour_scores.shape[1]):
        np.add.at(votes, (np.arange(len(votes)), neighbour_scores[:, col]), weights[:, col])
    return votes.argmax(axis=1)


def estimate_transition_matrix(
    embeddings: np.ndarray, scores: np.ndarray, k: int = 16, smoothing: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(T, prior)`` from the library: ``T[i, j]`` = share of samples whose k-NN consensus is ``i`` and whose
    rating is ``j`` (Laplace ``smoothing``, rows sum to 1); ``prior[i]`` = share of consensus label ``i``."""
    scores = np.asarray(scores, dtype=np.int64)
    sims, idx = nearest_neighbours(embeddings, embeddings, k, exclude_self=True)
    consensus = consensus_labels(scores[idx], sims)
    counts = np.full((NUM_SCORES, NUM_SCORES), smoothing, dtype=np.float64)
    np.add.at(counts, (consensus, scores), 1.0)
    transition = counts / counts.sum(axis=1, keepdims=True)
    prior = np.bincount(consensus, minlength=NUM_SCORES).astype(np.float64) + smoothing
    return transition, prior / prior.sum()


def posterior(neighbour_scores: np.ndarray, transition: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``(n, 6)`` posterior over the true score given each row's neighbour ratings."""
    log_t = np.log(transition)
    log_post = np.log(prior)[None, :] + log_t[:, neighbour_scores].transpose(1, 0, 2).sum(axis=2)
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    return post / post.sum(axis=1, keepdims=True)


def reward_for(expected_score: float, thresholds: Sequence[tuple[float, float]] = DEFAULT_THRESHOLDS) -> float:
    """Map an expected score, rounded to one decimal, to the reward through ``thresholds`` (≥ 4 → 1.0, ≥ 3 → 0.3,
    else 0). The rounding keeps a near-certain 4 (posterior mass 0.999 on 4, expectation 3.998) at 1.0."""
    rounded = round(float(expected_score), 1)
    for minimum, reward in sorted(thresholds, reverse=True):
        if rounded >= minimum:
            return float(reward)
    return 0.0


class KNNQualityScorer:
    """Score texts against a rated library: ``expected_scores(vectors)`` and ``rewards(vectors)``."""

    def __init__(
        self,
        embeddings: np.ndarray,
        scores: np.ndarray,
        k: int = 16,
        thresholds: Sequence[tuple[float, float]] = DEFAULT_THRESHOLDS,
        smoothing: float = 1.0,
    ) -> None:
        if len(embeddings) != len(scores) or len(scores) == 0:
            raise ValueError(f"library needs as many scores as embeddings, got {len(scores)} and {len(embeddings)}")
        if np.any((scores < 0) | (scores >= NUM_SCORES)):
            raise ValueError("library scores must be integers 0–5")
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.scores = np.asarray(scores, dtype=np.int64)
        self.k = min(k, len(self.scores))
        self.thresholds = tuple(thresholds)
        self.transition, self.prior = estimate_transition_matrix(
            self.embeddings, self.scores, min(k, max(len(self.scores) - 1, 1)), smoothing
        )
        import faiss

        self._index = faiss.IndexFlatIP(self.embeddings.shape[1])
        self._index.add(self.embeddings)

    def posteriors(self, vectors: np.ndarray) -> np.ndarray:
        """Posterior over true scores 0–5 for each query vector."""
        _, idx = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), self.k)
        return posterior(self.scores[idx], self.transition, self.prior)

    def expected_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Posterior expected score (0–5) of each query vector."""
        return self.posteriors(vectors) @ np.arange(NUM_SCORES, dtype=np.float64)

    def rewards(self, vectors: np.ndarray) -> list[float]:
        """Reward per query vector (see :func:`reward_for`)."""
        return [reward_for(score, self.thresholds) for score in self.expected_scores(vectors)]
