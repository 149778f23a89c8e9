"""Executors of `distill`: the output does not depend on the number of tasks, the sharded stages really run
as several tasks, and the Slurm config in configs/ builds its chain of executors (nothing is submitted)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mixture_builder.clustering.steps import EmbedStep
from mixture_builder.config_io import load_config
from mixture_builder.distill.config import STAGES, DistillConfig
from mixture_builder.distill.pipeline import build_executors, pool_executors, run_distill
from mixture_builder.distill.sharding import PoolReader
from mixture_builder.distill.work_folder import read_docs
from mixture_builder.errors import ConfigError, InputError
from mixture_builder.generate.sections import ExecutorConfig
from mixture_builder.ray_stages import RayStageExecutor
from mixture_builder.select.config import SelectConfig
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import load_train, real_pool_config, scripted_teacher

REPO = Path(__file__).resolve().parents[3]


def _ids(folder: Path) -> list[str]:
    return sorted(d.id for d in read_docs(folder))


@pytest.fixture(scope="module")
def pool_root(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding exact and near copies of 12 Alpaca rows (``copies.jsonl``), next to the runs."""
    root = tmp_path_factory.mktemp("tasks")
    alpaca = json.loads((raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json").read_text())[:12]
    (root / "copies.jsonl").write_text("".join(
        json.dumps({**row, "output": row["output"] + (" Indeed." if i % 2 else "")}) + "\n"
        for i, row in enumerate(alpaca)))
    return root


def pool_config(raw_dir: Path, root: Path, name: str, base_url: str, executor: dict) -> DistillConfig:
    """The real pools (Alpaca, Dolly, Code Alpaca: 450 records, plus the copies) distilled into ``root/name``
    with its own response cache."""
    data = real_pool_config(raw_dir, root / name, base_url, limit=150)
    data["pools"] += [{"path": str(raw_dir / "code_alpaca" / "code_alpaca_2k.json"), "limit": 150},
                      {"path": str(root / "copies.jsonl"), "source": "copies"}]
    data["executor"] = executor
    return DistillConfig.from_dict(data)


@pytest.fixture(scope="module")
def runs(raw_dir: Path, pool_root: Path):
    """The pools distilled with 1 and 2 local tasks: ``{tasks: (config, stats, teacher requests)}``."""
    out = {}
    with FakeOpenAIServer(scripted_teacher) as server:
        for tasks in (1, 2):
            config = pool_config(raw_dir, pool_root, f"t{tasks}", server.base_url, {"tasks": tasks, "workers": tasks})
            sent = len(server.requests)
            out[tasks] = (config, run_distill(config), len(server.requests) - sent)
    return out


def test_same_output_with_one_and_two_tasks(runs):
    (c1, s1, _), (c2, s2, _) = runs[1], runs[2]
    rows1, rows2 = (sorted(load_train(c.output).to_list(), key=lambda r: r["id"]) for c in (c1, c2))
    assert len(rows1) > 50 and {r["origin"] for r in rows1} == {"distilled", "original"}
    assert rows1 == rows2  # ids, outputs, provenance (source_ids), quality, long-tail scores
    for folder in ("clusters", "rejects", "rerate_dropped", "exact_duplicates", "near_duplicates", "high"):
        assert _ids(c1.work_dir / folder) == _ids(c2.work_dir / folder), folder
    assert s1["stages"] == s2["stages"]
    assert s1["stages"]["exact dedup"]["dropped"] and s1["stages"]["near dedup"]["dropped"]


def test_two_tasks_split_the_record_wise_stages(runs):
    config, _, _ = runs[2]
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


def test_a_stage_gets_its_own_slurm_resources(tmp_path):
    """configs/distill_slurm.yaml embeds on the GPU partition, one GPU per job; the other stages stay on CPUs."""
    config = DistillConfig.from_yaml(REPO / "configs" / "distill_slurm.yaml")
    config.output = str(tmp_path / "out")
    executors = build_executors(config)
    embed = executors["embed"]
    assert (embed.partition, embed.gpus_per_task, embed.cpus_per_task) == ("gpu", 1, 8)
    assert embed.venv_path == executors["score"].venv_path and embed.time == executors["score"].time
    assert {(e.partition, e.gpus_per_task, e.cpus_per_task) for n, e in executors.items() if n != "embed"} == {
        ("cpu", 0, 4)}
    assert [step.device for step in embed.pipeline if isinstance(step, EmbedStep)] == ["auto"]


def test_stage_resources_merge_over_the_executor():
    base = load_config(ExecutorConfig, {
        "kind": "slurm", "partition": "cpu", "cpus_per_task": 4, "sbatch_args": {"qos": "low", "account": "a"},
        "stages": {"embed": {"partition": "gpu", "gpus_per_task": 2, "sbatch_args": {"qos": "high"}}}})
    embed, score = base.for_stage("embed"), base.for_stage("score")
    assert (embed.partition, embed.gpus_per_task, embed.cpus_per_task) == ("gpu", 2, 4)
    assert embed.sbatch_args == {"qos": "high", "account": "a"} and embed.stages == {}
    assert (score.partition, score.gpus_per_task, score.sbatch_args) == ("cpu", 0, {"qos": "low", "account": "a"})
    assert base.stages  # the config itself is unchanged


def test_an_unknown_stage_is_one_line_error_naming_the_known_ones(tmp_path):
    path = tmp_path / "distill.yaml"
    path.write_text("pools: [a.jsonl]\nexecutor:\n  stages:\n    embedding: {gpus_per_task: 1}\n")
    with pytest.raises(ConfigError) as info:
        DistillConfig.from_yaml(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "executor.stages.embedding" in message
    assert "near_1_signatures" in message and "embed," in message


def test_every_stage_name_of_a_full_run_is_known(tmp_path):
    """``executor.stages`` keys are checked against STAGES: every executor of a run with decontamination,
    both dedups and re-rating is named there, in the run's order."""
    data = {"output": str(tmp_path / "out"), "pools": ["a.jsonl"],
            "decontamination": {"test_sets": [str(tmp_path / "test.jsonl")]}}
    executors = build_executors(DistillConfig.from_dict(data))
    assert list(executors) == list(STAGES)


def _embed_threads(executor) -> list[int | None]:
    return [step.threads for step in executor.pipeline if isinstance(step, EmbedStep)]


def test_embedding_tasks_share_the_cores(tmp_path, monkeypatch):
    """Tasks run at once split the machine's cores between their torch threads (no oversubscription)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    threads = {}
    for workers in (1, 2, 4):
        data = {"output": str(tmp_path / "out"), "executor": {"tasks": 4, "workers": workers}}
        executors = build_executors(DistillConfig.from_dict(data))
        threads[workers] = _embed_threads(executors["embed"]) + _embed_threads(executors["rerate"])
    assert threads == {1: [4, 4], 2: [2, 2], 4: [1, 1]}
    slurm = DistillConfig.from_yaml(REPO / "configs" / "distill_slurm.yaml")
    slurm.output = str(tmp_path / "slurm")
    assert _embed_threads(build_executors(slurm)["embed"]) == [slurm.executor.for_stage("embed").cpus_per_task] == [8]


def test_ray_config_builds_its_executor_chain(tmp_path):
    """configs/distill_ray.yaml: every stage a Ray executor, the same chain as local; `select` on the same file
    builds its pool stages on Ray too (nothing runs)."""
    config = DistillConfig.from_yaml(REPO / "configs" / "distill_ray.yaml")
    config.output = str(tmp_path / "out")
    executors = build_executors(config)
    assert all(isinstance(e, RayStageExecutor) for e in executors.values())
    assert executors["distill"].world_size == executors["embed"].world_size == 32
    assert executors["cluster"].world_size == executors["assemble"].world_size == 1
    assert executors["assemble"].depends is executors.get("rerate", executors["distill"])
    assert executors["embed"].cpus_per_task == 4 and executors["embed"].workers == 32  # Ray's resources decide
    assert executors["embed"].gpus_per_task == 1 and executors["score"].gpus_per_task == 0
    local = build_executors(dataclasses.replace(config, executor=ExecutorConfig(tasks=32)))
    assert {name: (e.world_size, [type(step).__name__ for step in e.pipeline]) for name, e in executors.items()} == {
        name: (e.world_size, [type(step).__name__ for step in e.pipeline]) for name, e in local.items()}
    select = SelectConfig.from_yaml(REPO / "configs" / "distill_ray.yaml")
    select.selection.output = str(tmp_path / "baselines")
    pool = pool_executors(select.work_config)
    assert all(isinstance(e, RayStageExecutor) for e in pool.values()) and pool["score"].world_size == 32
    assert not (tmp_path / "out").exists() and not (tmp_path / "baselines").exists()


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance on 2 CPUs (no dashboard; its files and its workers' temporary files in a temporary
    folder), shut down afterwards."""
    ray = pytest.importorskip("ray")
    temp = tempfile.mkdtemp(prefix="ray-")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20,
             _temp_dir=temp, runtime_env={"env_vars": {"TMPDIR": temp}})
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow  # ~90 s on 2 cores (12 stages of Ray tasks), after the local runs it compares with
def test_ray_run_gives_the_local_output(local_ray, runs, raw_dir: Path, pool_root: Path, capsys):
    """The same pools distilled with 2 Ray tasks (fresh cache: every request is sent from the Ray workers),
    with the default console: one line per stage, with its counts."""
    local, local_stats, local_requests = runs[2]
    with FakeOpenAIServer(scripted_teacher) as server:
        config = pool_config(raw_dir, pool_root, "ray", server.base_url, {"kind": "ray", "tasks": 2})
        stats = run_distill(config, quiet=True)
    console = capsys.readouterr().out.splitlines()
    scored = f"out {local_stats['stages']['score']['out']:,}"
    assert len(console) <= 40 and any(line.split()[:1] == ["score"] and scored in line for line in console), console
    assert len(server.requests) == local_requests > 0
    rows, expected = (sorted(load_train(c.output).to_list(), key=lambda r: r["id"]) for c in (config, local))
    assert rows == expected  # ids, outputs, provenance (source_ids), quality, long-tail scores
    for folder in ("clusters", "rejects", "rerate_dropped", "exact_duplicates", "near_duplicates", "high"):
        assert _ids(config.work_dir / folder) == _ids(local.work_dir / folder), folder
    assert stats["stages"] == local_stats["stages"] and stats["teacher_usage"] == local_stats["teacher_usage"]
    logs = config.work_dir / "logs"
    for stage in ("ingest", "score", "embed", "distill", "rerate"):
        assert "tasks_per_job" in json.loads((logs / stage / "executor.json").read_text())  # a Ray executor ran it
        assert sorted(p.name for p in (logs / stage / "completions").iterdir()) == ["00000", "00001"], stage


@pytest.mark.timeout(300)
def test_a_failed_ray_task_fails_the_run(local_ray, tmp_path: Path):
    """A bad record fails a Ray task of the first stage: running the dependent stage raises the reader's
    one-line error (datatrove's Ray executor alone leaves the dependent stage waiting for it)."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "Say hi.", "output": "Hi."}\n{"instruction": \n')
    executor = ExecutorConfig(kind="ray", tasks=2)
    read = executor.make([PoolReader(str(bad), on_error="raise")], name="read", tasks=2,
                         logging_dir=str(tmp_path / "logs" / "read"))
    after = executor.make([], name="after", tasks=1, logging_dir=str(tmp_path / "logs" / "after"), depends=read)
    with pytest.raises(InputError, match=r"bad\.jsonl, line 2"):
        after.run()
    assert not (tmp_path / "logs" / "after" / "completions").exists()
