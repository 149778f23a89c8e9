"""embed → cluster → annotate as datatrove stages on real Alpaca records (MiniLM embeddings)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.clustering.api import annotate_long_tail, cluster_documents
from mixture_builder.clustering.capacity import CapacityConfig, mean_intra_similarity
from mixture_builder.clustering.pipelines import cluster_plan
from mixture_builder.clustering.reference import reference_capacity_clusters
from mixture_builder.clustering.steps import read_shard_index, shard_ranks

from .conftest import in_process_executors, load_alpaca_records, read_jsonl_folder, write_jsonl_shards


@pytest.fixture(scope="module")
def alpaca_docs(raw_dir: Path) -> list:
    stanford = load_alpaca_records(raw_dir / "stanford_alpaca/alpaca_5000.shared.json", "stanford_alpaca", 100)
    demo = load_alpaca_records(raw_dir / "llamafactory_demo/alpaca_en_demo.json", "llamafactory_demo", 40)
    return stanford + demo


@pytest.fixture(scope="module")
def cluster_run(alpaca_docs: list, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("clusters")
    write_jsonl_shards(root / "in", {"a.jsonl": alpaca_docs[:70], "b.jsonl": alpaca_docs[70:]})

    def reader() -> JsonlReader:
        return JsonlReader(str(root / "in"))

    def run() -> None:
        make = in_process_executors(root / "work")
        plan = cluster_plan(reader, root / "work", tasks=2, cluster_tasks=2, long_tail_k=15,
                            executor_factory=make, batch_size=32)
        make([reader(), *plan.steps, JsonlWriter(str(root / "out"), compression=None)], tasks=2, name="final",
             depends=plan.last).run()

    run()
    return {"root": root, "docs": read_jsonl_folder(root / "out"), "run": run}


def test_every_record_annotated_with_a_bounded_cluster(cluster_run: dict, alpaca_docs: list) -> None:
    docs = cluster_run["docs"]
    assert sorted(d["id"] for d in docs) == sorted(d.id for d in alpaca_docs)
    sizes = Counter(d["metadata"]["cluster_id"] for d in docs)
    for d in docs:
        meta = d["metadata"]
        assert meta["cluster_size"] == sizes[meta["cluster_id"]]
        assert 2 <= meta["cluster_size"] <= 25
        assert meta["cluster_id"].startswith(meta["source"] + "/")  # clustered per source
        assert 0.0 <= meta["long_tail"] <= 1.0


def test_clusters_file_lists_members(cluster_run: dict) -> None:
    clusters = read_jsonl_folder(cluster_run["root"] / "work/clusters")
    by_id = {d["id"]: d["metadata"]["cluster_id"] for d in cluster_run["docs"]}
    members = [m for c in clusters for m in c["members"]]
    assert sorted(members) == sorted(by_id)  # each record in exactly one cluster
    for cluster in clusters:
        assert cluster["size"] == len(cluster["members"])
        assert {by_id[m] for m in cluster["members"]} == {cluster["cluster_id"]}


def test_embedding_shards_with_id_index(cluster_run: dict) -> None:
    emb = cluster_run["root"] / "work/embeddings"
    assert shard_ranks(str(emb)) == [0, 1]
    matrix = np.load(emb / "00000.npy")
    index = read_shard_index(str(emb), 0)
    assert matrix.shape == (70, 384) and matrix.dtype == np.float32 and len(index) == 70
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_rerun_resumes_without_redoing_work(cluster_run: dict) -> None:
    shard = cluster_run["root"] / "work/embeddings/00001.npy"
    before = shard.stat().st_mtime_ns
    cluster_run["run"]()
    assert shard.stat().st_mtime_ns == before
    assert len(read_jsonl_folder(cluster_run["root"] / "out")) == 140


def test_in_memory_api_groups_similar_records(alpaca_docs: list) -> None:
    from mixture_builder.clustering.embeddings import embed_texts, embedding_text

    docs = [d for d in alpaca_docs if d.metadata["source"] == "stanford_alpaca"]
    vectors = embed_texts([embedding_text(d) for d in docs])
    clusters = cluster_documents(docs, CapacityConfig(), embeddings=vectors)
    assert sum(len(m) for m in clusters.values()) == len(docs)
    labels = np.array([list(clusters).index(d.metadata["cluster_id"]) for d in docs])
    shuffled = np.random.default_rng(0).permutation(labels)
    ours = mean_intra_similarity(vectors, labels)
    assert ours > mean_intra_similarity(vectors, shuffled) + 0.05  # 100 unrelated tasks: modest structure
    assert ours >= mean_intra_similarity(vectors, reference_capacity_clusters(vectors)) - 0.02
    scores = annotate_long_tail(docs, embeddings=vectors)
    assert scores.shape == (len(docs),) and docs[0].metadata["long_tail"] == pytest.approx(float(scores[0]))
    groups = defaultdict(set)
    for d in docs:
        groups[d.metadata["cluster_id"]].add(d.id)
    assert all(2 <= len(g) <= 25 for g in groups.values())


def test_annotating_a_different_stream_is_a_clear_error(cluster_run: dict) -> None:
    from datatrove.data import Document

    from mixture_builder.clustering.steps import ClusterAnnotator

    docs = [Document(text=d["text"], id=d["id"], metadata={}) for d in reversed(cluster_run["docs"])]
    with pytest.raises(ValueError, match="same reader, filters and number of tasks"):
        list(ClusterAnnotator(str(cluster_run["root"] / "work/clusters")).run(iter(docs), rank=0, world_size=2))


def test_stored_or_embedded_reuses_the_shards_and_embeds_the_rest(alpaca_docs: list, tmp_path: Path):
    """Vectors an EmbedStep stored are returned in the asked order, the others embedded with the same text."""
    from mixture_builder.clustering.embeddings import embed_texts, embedding_text
    from mixture_builder.clustering.steps import EmbedStep, gather_vectors, stored_or_embedded

    docs = alpaca_docs[:30]
    for rank, part in enumerate((docs[:10], docs[10:20])):  # two shards; docs[20:] never embedded
        list(EmbedStep(tmp_path / "emb", batch_size=8).run(iter(part), rank=rank))
    asked = [docs[25], docs[3], docs[14], docs[21]]
    stored, found = gather_vectors([tmp_path / "missing", tmp_path / "emb"], [d.id for d in asked])
    assert found.tolist() == [False, True, True, False] and not stored[0].any()
    fresh = embed_texts([embedding_text(d) for d in asked])
    vectors, embedded = stored_or_embedded([tmp_path / "emb"], [d.id for d in asked],
                                           lambda i: embedding_text(asked[i]))
    assert embedded == 2 and vectors.shape == fresh.shape
    np.testing.assert_allclose(vectors, fresh, atol=1e-5)
    assert np.array_equal(vectors[1:3], stored[1:3])
