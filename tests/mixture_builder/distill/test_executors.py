"""Executors of `distill`: the output does not depend on the number of tasks, the sharded stages really run
as several tasks, and the Slurm config in configs/ builds its chain of executors (nothing is submitted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import build_executors, run_distill
from mixture_builder.distill.work_folder import read_docs
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import load_train, real_pool_config, scripted_teacher

REPO = Path(__file__).resolve().parents[3]


def _ids(folder: Path) -> list[str]:
    return sorted(d.id for d in read_docs(folder))


@pytest.fixture(scope="module")
def runs(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The same real pools (Alpaca, Dolly, Code Alpaca: 450 records, plus exact and near copies of 12 Alpaca
    rows) distilled with 1 and 2 tasks, each with its own response cache."""
    root = tmp_path_factory.mktemp("tasks")
    alpaca = json.loads((raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json").read_text())[:12]
    copies = root / "copies.jsonl"
    copies.write_text("".join(json.dumps({**row, "output": row["output"] + (" Indeed." if i % 2 else "")}) + "\n"
                              for i, row in enumerate(alpaca)))
    out = {}
    with FakeOpenAIServer(scripted_teacher) as server:
        for tasks in (1, 2):
            data = real_pool_config(raw_dir, root / f"t{tasks}", server.base_url, limit=150)
            data["pools"] += [{"path": str(raw_dir / "code_alpaca" / "code_alpaca_2k.json"), "limit": 150},
                              {"path": str(copies), "source": "copies"}]
            data["executor"] = {"tasks": tasks, "workers": tasks}
            config = DistillConfig.from_dict(data)
            out[tasks] = (config, run_distill(config))
    return out


def test_same_output_with_one_and_two_tasks(runs):
    (c1, s1), (c2, s2) = runs[1], runs[2]
    rows1, rows2 = (sorted(load_train(c.output).to_list(), key=lambda r: r["id"]) for c in (c1, c2))
    assert len(rows1) > 50 and {r["origin"] for r in rows1} == {"distilled", "original"}
    assert rows1 == rows2  # ids, outputs, provenance (source_ids), quality, long-tail scores
    for folder in ("clusters", "rejects", "rerate_dropped", "exact_duplicates", "near_duplicates", "high"):
        assert _ids(c1.work_dir / folder) == _ids(c2.work_dir / folder), folder
    assert s1["stages"] == s2["stages"]
    assert s1["stages"]["exact dedup"]["dropped"] and s1["stages"]["near dedup"]["dropped"]


def test_two_tasks_split_the_record_wise_stages(runs):
    config, _ = runs[2]
    logs = config.work_dir / "logs"
    for stage in ("ingest", "near_1_signatures", "score", "embed", "distill", "rerate"):
        done = sorted(p.name for p in (logs / stage / "completions").iterdir())
        assert done == ["00000", "00001"], stage
    # both tasks of the sharded stages got records (ids hashed into shards, single-file pools spread)
    assert {p.name.split("_")[1] for p in (config.work_dir / "ingest").glob("*.jsonl.gz")} == {
        "00000.jsonl.gz", "00001.jsonl.gz"}
    assert sorted(p.name for p in (config.work_dir / "scored").glob("*.jsonl.gz")) == [
        "00000.jsonl.gz", "00001.jsonl.gz"]
    embedded = [len((config.work_dir / "embeddings" / f"0000{r}.ids.jsonl").read_text().splitlines()) for r in (0, 1)]
    assert min(embedded) > 0.3 * sum(embedded)


def test_slurm_config_builds_its_executor_chain(tmp_path):
    from datatrove.executor import SlurmPipelineExecutor

    config = DistillConfig.from_yaml(REPO / "configs" / "distill_slurm.yaml")
    config.output = str(tmp_path / "out")
    executors = build_executors(config)
    assert all(isinstance(e, SlurmPipelineExecutor) for e in executors.values())
    assert {name: e.world_size for name, e in executors.items() if name in ("ingest", "score", "embed", "distill",
                                                                           "rerate")} == dict.fromkeys(
        ("ingest", "score", "embed", "distill", "rerate"), 32)
    assert executors["cluster"].world_size == executors["assemble"].world_size == 1
    chain, node = [], executors["assemble"]
    while node is not None:
        chain.append(node)
        node = node.depends
    assert chain[-1] is executors["ingest"] and executors["embed"] in chain and executors["distill"] in chain
    assert executors["ingest"].partition == "cpu" and executors["ingest"].venv_path.endswith("activate")
    assert not (tmp_path / "out").exists()  # building submits nothing


def _embed_threads(executor) -> list[int | None]:
    from mixture_builder.clustering.steps import EmbedStep

    return [step.threads for step in executor.pipeline if isinstance(step, EmbedStep)]


def test_embedding_tasks_share_the_cores(tmp_path, monkeypatch):
    """Tasks run at once split the machine's cores between their torch threads (no oversubscription)."""
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    threads = {}
    for workers in (1, 2, 4):
        data = {"output": str(tmp_path / "out"), "executor": {"tasks": 4, "workers": workers}}
        executors = build_executors(DistillConfig.from_dict(data))
        threads[workers] = _embed_threads(executors["embed"]) + _embed_threads(executors["rerate"])
    assert threads == {1: [4, 4], 2: [2, 2], 4: [1, 1]}
    slurm = DistillConfig.from_yaml(REPO / "configs" / "distill_slurm.yaml")
    slurm.output = str(tmp_path / "slurm")
    assert _embed_threads(build_executors(slurm)["embed"]) == [slurm.executor.cpus_per_task]


def test_ray_executor_builds_the_same_chain(tmp_path):
    pytest.importorskip("ray")
    from datatrove.executor import RayPipelineExecutor

    data = {"output": str(tmp_path / "out"), "executor": {"kind": "ray", "tasks": 3, "cpus_per_task": 2}}
    executors = build_executors(DistillConfig.from_dict(data))
    assert all(isinstance(e, RayPipelineExecutor) for e in executors.values())
    assert executors["distill"].world_size == 3 and executors["cluster"].world_size == 1
    assert executors["assemble"].depends is executors.get("rerate", executors["distill"])
