from collections import Counter

import numpy as np
import pytest

from mixture_builder.generate.assemble import (
    CROSS_TOPIC,
    Target,
    Variant,
    assign_splits,
    build_records,
    draw_cluster_size,
    neighbour_targets,
)
from mixture_builder.generate.config import BuildConfig, ClusterSizeConfig
from mixture_builder.mixture_format import MIXTURE_FIELDS, TASKS, linearise


def make_targets(n_per_task: int) -> list[Target]:
    return [
        Target(id=f"p{i}/{task}", task=task, text=f"{task} sample {i}", cot=f"because {i}", quality=4,
               source="wiki", source_id=f"p{i}", license="CC BY-SA 3.0", teacher="t (write@1)")
        for task in TASKS for i in range(n_per_task)
    ]


def test_split_is_by_target_disjoint_seeded_and_close_to_30_70():
    targets = make_targets(100)
    assignment = assign_splits(targets, sft_fraction=0.3, test_fraction=0.1, seed=42)
    assert set(assignment) == {t.id for t in targets}
    cells = Counter(assignment.values())
    assert cells[("sft", "train")] + cells[("sft", "test")] == 150
    assert cells[("sft", "test")] == 15 and cells[("grpo", "test")] == 35
    assert assign_splits(list(reversed(targets)), seed=42) == assignment  # order-independent
    assert assign_splits(targets, seed=7) != assignment


@pytest.mark.parametrize("n", [4, 5, 7])
def test_small_builds_fill_every_split_of_every_task(n):
    assignment = assign_splits(make_targets(n))
    for task in TASKS:
        cells = {cell for target_id, cell in assignment.items() if target_id.endswith(f"/{task}")}
        assert cells == {("sft", "train"), ("sft", "test"), ("grpo", "train"), ("grpo", "test")}


def test_cluster_sizes_follow_the_configured_distribution():
    import random

    sizes = ClusterSizeConfig(min_size=3, max_size=9, mean=6, std=4)
    drawn = [draw_cluster_size(sizes, random.Random(i)) for i in range(500)]
    assert min(drawn) == 3 and max(drawn) == 9
    assert 5 < np.mean(drawn) < 7
    assert draw_cluster_size(ClusterSizeConfig(mean=4, std=0), random.Random(0)) == 4


def test_neighbours_stay_in_task_and_split_and_leave_the_passage():
    targets = make_targets(8)
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(len(targets), 16)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    assignment = assign_splits(targets)
    by_id = {t.id: t for t in targets}
    found = neighbour_targets(targets, embeddings, assignment, k=3, min_similarity=-1.0)
    assert any(found.values())
    for target_id, neighbours in found.items():
        assert len(neighbours) <= 3
        for other in neighbours:
            assert by_id[other].task == by_id[target_id].task
            assert assignment[other] == assignment[target_id]
            assert by_id[other].source_id != by_id[target_id].source_id


def test_records_have_the_mixture_fields_and_valid_clusters():
    targets = make_targets(6)
    variants = [
        Variant(t.id, f"{t.text} variant {j}", ["teacher:shallow"] if j == 0 else ["typos"])
        for t in targets for j in range(6)
    ] + [Variant(targets[0].id, targets[0].text, ["typos"])]  # a variant equal to its target is left out
    embeddings = np.ones((len(targets), 4), dtype=np.float32) / 2.0  # everything similar: cross-topic merges
    config = BuildConfig(clusters=ClusterSizeConfig(mean=8, std=0))
    tables, dropped = build_records(targets, variants, embeddings, config)
    records = [r for rows in tables.values() for r in rows]
    assert len(records) == len(targets) and not dropped
    cross = 0
    for record in records:
        assert tuple(record) == MIXTURE_FIELDS
        assert 2 <= len(record["inputs"]) <= 20 and len(record["inputs"]) == len(record["degradations"])
        assert record["input"] == linearise(record["inputs"])
        assert record["output"] not in record["inputs"]
        assert len(set(record["inputs"])) == len(record["inputs"])
        assert record["task_type"] == f"{record['id'].rsplit('/', 1)[1]}_mixup"
        assert record["source_ids"][0] == record["id"].split("/")[1]
        cross += sum(CROSS_TOPIC in labels for labels in record["degradations"])
        if any(CROSS_TOPIC in labels for labels in record["degradations"]):
            assert len(record["source_ids"]) > 1
    assert cross > 0
    assert build_records(targets, variants, embeddings, config) == (tables, dropped)  # deterministic


def test_targets_without_enough_variants_are_counted():
    targets = make_targets(1)
    tables, dropped = build_records(targets, [Variant(targets[0].id, "only one", ["typos"])], None, BuildConfig())
    assert sum(len(rows) for rows in tables.values()) == 0
    assert dropped == {"too_few_inputs": len(targets)}
