"""Capacity-constrained clustering on synthetic embeddings: sizes, coverage, determinism, quality."""

from __future__ import annotations

import numpy as np
import pytest

from mixture_builder.clustering.capacity import (
    CapacityConfig,
    capacity_clusters,
    cluster_members,
    mean_intra_similarity,
)
from mixture_builder.clustering.reference import reference_capacity_clusters
from mixture_builder.errors import ConfigError

from .conftest import topical_embeddings


@pytest.mark.parametrize("n", [3, 7, 25, 26, 99, 1000, 5003])
def test_sizes_within_bounds_and_every_record_once(n: int) -> None:
    x = topical_embeddings(n, seed=n)
    labels = capacity_clusters(x)
    assert labels.shape == (n,) and labels.dtype == np.int64
    sizes = np.bincount(labels)
    assert sizes.sum() == n  # every record in exactly one cluster
    assert (sizes > 0).all()  # labels are contiguous 0..C-1
    assert sizes.min() >= 2 and sizes.max() <= 25
    members = np.concatenate(cluster_members(labels))
    assert sorted(members.tolist()) == list(range(n))


def test_cluster_count_follows_mean() -> None:
    x = topical_embeddings(4000, seed=1)
    sizes = np.bincount(capacity_clusters(x))
    assert 8.5 <= sizes.mean() <= 11.5
    assert sizes.std() > 1.0  # capacities are drawn, not a constant


def test_small_leaves_force_cross_leaf_repair() -> None:
    # tiny leaves: many clusters are dissolved/filled across leaf borders; the bounds still hold
    cfg = CapacityConfig(min_size=5, max_size=12, mean=8, std=4, leaf_size=48, candidates=2)
    x = topical_embeddings(3000, seed=3)
    sizes = np.bincount(capacity_clusters(x, cfg))
    assert sizes.sum() == 3000 and sizes.min() >= 5 and sizes.max() <= 12


def test_deterministic_for_a_seed_and_varies_with_it() -> None:
    x = topical_embeddings(3000, seed=2)
    a = capacity_clusters(x, CapacityConfig(seed=7))
    b = capacity_clusters(x, CapacityConfig(seed=7))
    c = capacity_clusters(x, CapacityConfig(seed=8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_remainder_case_fewer_points_than_min_size() -> None:
    x = topical_embeddings(3, seed=4)
    labels = capacity_clusters(x, CapacityConfig(min_size=5, max_size=10, mean=7, std=1))
    assert labels.tolist() == [0, 0, 0]  # documented remainder: one cluster of N < min_size
    assert capacity_clusters(np.zeros((0, 8), dtype=np.float32)).shape == (0,)


def test_identical_points_still_split_into_bounded_clusters() -> None:
    x = np.tile(np.eye(1, 16, dtype=np.float32), (700, 1))
    sizes = np.bincount(capacity_clusters(x, CapacityConfig(leaf_size=100)))
    assert sizes.sum() == 700 and sizes.min() >= 2 and sizes.max() <= 25


def test_unnormalised_input_is_normalised() -> None:
    x = topical_embeddings(500, seed=5)
    assert np.array_equal(capacity_clusters(x * 3.0), capacity_clusters(x))


def test_groups_topics_as_well_as_the_reference_algorithm() -> None:
    x = topical_embeddings(2000, topics=40, seed=6)
    ours = capacity_clusters(x)
    ref = reference_capacity_clusters(x)
    ref_sizes = np.bincount(ref)
    assert ref_sizes.min() >= 2 and ref_sizes.max() <= 25 and ref_sizes.sum() == 2000
    assert mean_intra_similarity(x, ours) >= mean_intra_similarity(x, ref) - 0.02
    # and clusters are far tighter than random groups
    random_labels = np.random.default_rng(0).permutation(ours)
    assert mean_intra_similarity(x, ours) > mean_intra_similarity(x, random_labels) + 0.2


def test_config_validation_and_yaml(tmp_path) -> None:
    with pytest.raises(ConfigError, match="min_size"):
        CapacityConfig(min_size=30)
    with pytest.raises(ConfigError, match="mean"):
        CapacityConfig(mean=1.0)
    path = tmp_path / "c.yaml"
    path.write_text("clustering:\n  min_size: 3\n  max_size: 20\n")
    assert CapacityConfig.from_yaml(path).min_size == 3
    path.write_text("clustering:\n  min_sise: 3\n")
    with pytest.raises(ConfigError, match="field 'clustering.min_sise': unknown option — did you mean 'min_size'"):
        CapacityConfig.from_yaml(path)


@pytest.mark.parametrize("algorithm", [capacity_clusters, reference_capacity_clusters])
def test_remainder_case_when_every_cluster_is_full(algorithm) -> None:
    # min = max = 3 and 7 points: two full clusters of 3, the 7th point is the documented remainder
    cfg = CapacityConfig(min_size=3, max_size=3, mean=3, std=0, leaf_size=12)
    sizes = sorted(np.bincount(algorithm(topical_embeddings(7, seed=9), cfg)).tolist())
    assert sizes == [1, 3, 3]


def test_same_result_with_any_number_of_threads() -> None:
    x = topical_embeddings(6000, seed=11)
    one = capacity_clusters(x, CapacityConfig(threads=1, leaf_size=500))
    two = capacity_clusters(x, CapacityConfig(threads=2, leaf_size=500))
    assert np.array_equal(one, two)
