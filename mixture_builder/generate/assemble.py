"""Assembly of MIXTURE records: split the targets, form a cluster of 2–20 low-quality inputs per target
(its own variants plus, across topics, variants of its nearest same-task targets) and build the records.

Pure functions over plain dicts; the datatrove step in ``steps`` feeds them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from mixture_builder.generate.config import BuildConfig, ClusterSizeConfig
from mixture_builder.generate.noise import stable_seed
from mixture_builder.mixture_format import MIXTURE_FIELDS, MIXTURE_INSTRUCTION, linearise

CROSS_TOPIC = "cross_topic"
"""Degradation label of an input that comes from a neighbouring target (another passage)."""

PARTITIONS: tuple[tuple[str, str], ...] = (("sft", "train"), ("grpo", "train"), ("sft", "test"), ("grpo", "test"))


@dataclass
class Target:
    """A high-quality sample kept by the rater."""

    id: str
    task: str
    text: str
    cot: str
    quality: int
    source: str
    source_id: str
    license: str
    teacher: str


@dataclass
class Variant:
    """A low-quality variant of one target, with the degradations that made it."""

    target_id: str
    text: str
    degradations: list[str]


def _cell_counts(n: int, sft_fraction: float, test_fraction: float) -> dict[tuple[str, str], int]:
    """How many of ``n`` targets go to each (config, split); every cell gets one when ``n >= 4``."""
    n_sft = round(n * sft_fraction)
    counts: dict[tuple[str, str], int] = {}
    for config, m in (("sft", n_sft), ("grpo", n - n_sft)):
        n_test = round(m * test_fraction)
        counts[(config, "test")] = n_test
        counts[(config, "train")] = m - n_test
    if n >= len(PARTITIONS):
        for cell in PARTITIONS:
            while counts[cell] == 0:
                donor = max(counts, key=lambda c: counts[c])
                counts[donor] -= 1
                counts[cell] += 1
    return counts


def assign_splits(
    targets: list[Target], *, sft_fraction: float = 0.3, test_fraction: float = 0.1, seed: int = 42
) -> dict[str, tuple[str, str]]:
    """Target id → ``(config, split)``: ``sft_fraction`` of each task's targets to SFT, the rest to GRPO, each
    ``test_fraction`` test; stratified by task so small builds still fill every split; seeded, so a rerun
    over the same targets gives the same assignment. A target is in exactly one (config, split)."""
    by_task: dict[str, list[str]] = defaultdict(list)
    for target in targets:
        by_task[target.task].append(target.id)
    assignment: dict[str, tuple[str, str]] = {}
    for task, ids in sorted(by_task.items()):
        ids = sorted(set(ids))
        random.Random(stable_seed(seed, "split", task)).shuffle(ids)
        counts = _cell_counts(len(ids), sft_fraction, test_fraction)
        position = 0
        for cell in PARTITIONS:
            for target_id in ids[position : position + counts[cell]]:
                assignment[target_id] = cell
            position += counts[cell]
    return assignment


def draw_cluster_size(sizes: ClusterSizeConfig, rng: random.Random) -> int:
    """A size from Normal(mean, std), rounded and clipped to [min_size, max_size]."""
    value = round(rng.gauss(sizes.mean, sizes.std)) if sizes.std > 0 else round(sizes.mean)
    return int(min(sizes.max_size, max(sizes.min_size, value)))


def neighbour_targets(
    targets: list[Target],
    embeddings: np.ndarray,
    assignment: dict[str, tuple[str, str]],
    *,
    k: int,
    min_similarity: float,
) -> dict[str, list[str]]:
    """Target id → up to ``k`` nearest targets (most similar first) of the same task and the same (config,
    split), from other passages, with cosine similarity >= ``min_similarity``. Keeping neighbours inside
    one split means no input text crosses between SFT/GRPO or train/test."""
    out: dict[str, list[str]] = {target.id: [] for target in targets}
    if k <= 0 or len(targets) < 2:
        return out
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, target in enumerate(targets):
        groups[(target.task, *assignment[target.id])].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        vectors = embeddings[members]
        similarity = vectors @ vectors.T
        for row, i in enumerate(members):
            order = np.argsort(-similarity[row], kind="stable")
            picked: list[str] = []
            for col in order:
                j = members[int(col)]
                if j == i or targets[j].source_id == targets[i].source_id:
                    continue
                if similarity[row, col] < min_similarity or len(picked) >= k:
                    break
                picked.append(targets[j].id)
            out[targets[i].id] = picked
    return out


def form_cluster(
    target: Target,
    own: list[Variant],
    borrowed: list[Variant],
    sizes: ClusterSizeConfig,
    seed: int,
) -> tuple[list[str], list[list[str]], list[str]]:
    """The inputs of one record: up to a drawn size, own variants first with about a third of the slots
    open to ``borrowed`` (neighbours' variants, marked ``cross_topic``); duplicates removed; order shuffled.
    Returns ``(inputs, degradations, contributing target ids)``; fewer than ``min_size`` inputs means the
    target cannot form a record."""
    rng = random.Random(stable_seed(seed, "cluster", target.id))
    size = draw_cluster_size(sizes, rng)
    seen: set[str] = {" ".join(target.text.split())}

    def unique(variants: list[Variant]) -> list[Variant]:
        kept = []
        for variant in variants:
            key = " ".join(variant.text.split())
            if key and key not in seen:
                seen.add(key)
                kept.append(variant)
        return kept

    own = list(own)
    rng.shuffle(own)
    own, borrowed = unique(own), unique(borrowed)
    n_borrow = min(len(borrowed), size // 3)
    picked = own[: size - n_borrow] + borrowed[:n_borrow]
    if len(picked) < size:  # fill what one pool could not
        rest = own[size - n_borrow :] + borrowed[n_borrow:]
        picked += rest[: size - len(picked)]
    items: list[tuple[str, list[str], str]] = []
    for variant in picked:
        labels = list(variant.degradations)
        if variant.target_id != target.id:
            labels = [CROSS_TOPIC, *labels]
        items.append((variant.text.strip(), labels, variant.target_id))
    rng.shuffle(items)
    return [i[0] for i in items], [i[1] for i in items], [i[2] for i in items]


def build_records(
    targets: list[Target],
    variants: list[Variant],
    embeddings: np.ndarray | None,
    config: BuildConfig,
) -> tuple[dict[tuple[str, str], list[dict]], dict[str, int]]:
    """All MIXTURE records grouped by (config, split), and drop counts by reason. Targets whose text repeats
    an earlier target's (by id) are dropped as ``duplicate_target``, so no target can land in two splits."""
    dropped: dict[str, int] = defaultdict(int)
    unique: dict[str, Target] = {}
    for target in sorted(targets, key=lambda t: t.id):
        key = " ".join(target.text.split())
        if key in unique:
            dropped["duplicate_target"] += 1
            continue
        unique[key] = target
    targets = list(unique.values())
    by_target: dict[str, list[Variant]] = defaultdict(list)
    for variant in variants:
        by_target[variant.target_id].append(variant)
    for items in by_target.values():
        items.sort(key=lambda v: (v.degradations, v.text))
    assignment = assign_splits(
        targets, sft_fraction=config.sft_fraction, test_fraction=config.test_fraction, seed=config.seed
    )
    neighbours: dict[str, list[str]] = {t.id: [] for t in targets}
    if config.cross_topic and embeddings is not None:
        neighbours = neighbour_targets(
            targets, embeddings, assignment,
            k=config.cross_topic_neighbours, min_similarity=config.cross_topic_min_similarity,
        )
    by_id = {t.id: t for t in targets}
    tables: dict[tuple[str, str], list[dict]] = {cell: [] for cell in PARTITIONS}
    for target in targets:
        borrowed = [v for other in neighbours[target.id] for v in by_target.get(other, [])]
        inputs, labels, contributors = form_cluster(
            target, by_target.get(target.id, []), borrowed, config.clusters, config.seed
        )
        if len(inputs) < config.clusters.min_size:
            dropped["too_few_inputs"] += 1
            continue
        sources = [target] + [by_id[c] for c in dict.fromkeys(contributors) if c != target.id]
        record = {
            "id": f"mixture/{target.id}",
            "task_type": f"{target.task}_mixup",
            "instruction": MIXTURE_INSTRUCTION,
            "input": linearise(inputs),
            "output": target.text,
            "cot": target.cot,
            "source": target.source,
            "inputs": inputs,
            "degradations": labels,
            "source_ids": list(dict.fromkeys(t.source_id for t in sources)),
            "quality": int(target.quality),
            "teacher": target.teacher,
            "license": "; ".join(sorted({t.license for t in sources if t.license})),
        }
        assert tuple(record) == MIXTURE_FIELDS
        tables[assignment[target.id]].append(record)
    return tables, dict(dropped)
