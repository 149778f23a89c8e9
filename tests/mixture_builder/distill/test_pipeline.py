"""`lm-mixup distill` end to end on real pools (Alpaca + Dolly) with a scripted OpenAI-compatible teacher as
rater and distiller: the folder loads with `datasets` and TRL, provenance points at real input rows of one
cluster, counts add up, the report escapes text, a push loads back from a local Hub."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import run_distill
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import load_train, real_pool_config, scripted_teacher

HTML_ROWS = [
    {"instruction": "Explain the <b>bold</b> tag & its use", "input": "", "output": "It makes <b>text</b> bold."},
    {"instruction": "what does <b> do in html", "input": "", "output": "bold <script>alert(1)</script>"},
    {"instruction": "Explain the <b>bold</b> tag & its use.", "input": "", "output": "Bold text."},
]


@pytest.fixture(scope="module")
def run(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One distillation of 2×120 real records plus a tiny pool with HTML and a GSM8K test question, GSM8K's
    test set as decontamination set; yields (config, stats, config dict) while the scripted teacher is up."""
    root = tmp_path_factory.mktemp("distill")
    gsm8k = raw_dir / "gsm8k" / "test.jsonl"
    leaked = json.loads(gsm8k.read_text().splitlines()[7])
    extra_pool = root / "html" / "pool.jsonl"
    extra_pool.parent.mkdir()
    rows = [*HTML_ROWS, {"instruction": leaked["question"], "input": "", "output": leaked["answer"]}]
    extra_pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with FakeOpenAIServer(scripted_teacher) as server:
        data = real_pool_config(raw_dir, root / "out", server.base_url)
        data["pools"].append({"path": str(extra_pool), "source": "html", "license": "mit"})
        data["decontamination"] = {"test_sets": [str(gsm8k)]}
        config = DistillConfig.from_dict(data)
        stats = run_distill(config)
        yield config, stats, data


def test_renaming_steps_leaves_the_stage_table_unchanged(raw_dir, tmp_path, monkeypatch):
    """Stage counts are found by step id: display names can change freely."""
    from datatrove.pipeline.base import PipelineStep

    with FakeOpenAIServer(scripted_teacher) as server:
        data = real_pool_config(raw_dir, tmp_path / "before", server.base_url, limit=20, report=False)
        before = run_distill(DistillConfig.from_dict(data))
        pending, renamed = [PipelineStep], 0
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if "step_id" in cls.__dict__:
                monkeypatch.setattr(cls, "name", f"renamed {renamed}")
                renamed += 1
        assert renamed >= 8
        after = run_distill(DistillConfig.from_dict({**data, "output": str(tmp_path / "after")}))
    assert after["stages"] == before["stages"]
    assert before["stages"]["normalise"]["in"] == 40 and before["stages"]["distill"]["in"] > 0


def _rows(config: DistillConfig) -> list[dict]:
    return load_train(config.output).to_list()


def test_output_loads_with_datasets_and_has_both_origins(run):
    config, stats, _ = run
    rows = _rows(config)
    assert len(rows) == stats["output"]["rows"] > 0
    origins = {r["origin"] for r in rows}
    assert origins == {"distilled", "original"}
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["messages"][0]["role"] == "user" and row["messages"][1] == {"role": "assistant",
                                                                               "content": row["output"]}
        assert row["quality"] >= 4 and 0.0 <= row["long_tail"] <= 1.0
    distilled = [r for r in rows if r["origin"] == "distilled"]
    assert all(r["teacher"].startswith("scripted (distill@") and r["cot"] for r in distilled)


def test_distilled_rows_point_at_input_rows_of_one_cluster(run):
    from mixture_builder.distill.work_folder import read_docs
    from mixture_builder.readers import read_records

    config, _, _ = run
    source_of = {d.id: d.metadata["source"] for pool in config.pools
                 for d in read_records(pool.path, limit=pool.limit, **({"source": pool.source} if pool.source else {}))}
    input_ids = set(source_of)
    clusters = {tuple(d.metadata["source_ids"]): d for d in read_docs(config.work_dir / "clusters")}
    distilled = [r for r in _rows(config) if r["origin"] == "distilled"]
    assert distilled
    for row in distilled:
        assert set(row["source_ids"]) <= input_ids
        cluster = clusters[tuple(row["source_ids"])]  # exactly one cluster's members, in its order
        assert row["id"] == cluster.id.replace("cluster/", "distilled/")
        assert 2 <= len(row["source_ids"]) <= config.clustering.capacity.max_size
        assert row["sources"] == sorted({source_of[i] for i in row["source_ids"]})
    originals = [r for r in _rows(config) if r["origin"] == "original"]
    assert all(r["source_ids"] == [r["id"]] and r["id"] in input_ids for r in originals)


def test_counts_add_up_in_stats_and_card(run):
    config, stats, _ = run
    stages = stats["stages"]
    for name, stage in stages.items():
        assert stage["in"] == stage["out"] + sum(stage["dropped"].values()) + stage.get("merged", 0), name
    chain = ["read", "normalise", "decontaminate", "exact dedup", "near dedup", "score", "split high/low"]
    for before, after in itertools.pairwise(chain):
        assert stages[before]["out"] == stages[after]["in"], (before, after)
    assert stages["read"]["in"] == stats["input_records"] == 2 * 120 + len(HTML_ROWS) + 1
    assert stages["decontaminate"]["dropped"] == {"contaminated": 1}
    assert stages["distill"]["in"] == stages["cluster low"]["out"]
    assert stages["re-rate"]["in"] == stages["distill"]["out"]
    assert stages["merge"]["out"] == stats["output"]["rows"]
    assert stages["distill"]["dropped"].get("bad_format", 0) >= 1  # the scripted teacher breaks every 5th
    assert stages["re-rate"]["dropped"].get("low_quality", 0) >= 1
    assert sum(stats["quality_before"].values()) == stages["score"]["out"]
    assert stats["fraction_kept"] == round(stats["output"]["rows"] / stats["input_records"], 4)
    card = (Path(config.output) / "README.md").read_text()
    assert "## Distillation" in card and "Examples: clusters and their distillation" in card
    assert f"Input records: **{stats['input_records']}**" in card
    assert "not accounted for" not in card and "| decontaminate |" in card
    rejects = list((config.work_dir / "rejects").glob("*.jsonl.gz"))
    assert rejects


def test_every_text_is_embedded_once_in_the_sharded_stages(run):
    """The embed stage embeds every scored record and the re-rating every kept distilled sample; clustering
    and assembly embed nothing, and the long-tail scores equal those of embedding the output rows afresh."""
    from mixture_builder.clustering.steps import read_shard_index, shard_ranks
    from mixture_builder.distill.select import add_long_tail, distilled_row, original_row
    from mixture_builder.distill.stats import step_totals
    from mixture_builder.distill.work_folder import logs_dir, read_docs

    config, _, _ = run
    work = config.work_dir

    def stored(folder: str) -> list[str]:
        return sorted(e["id"] for r in shard_ranks(work / folder) for e in read_shard_index(work / folder, r))

    assert stored("embeddings") == sorted(d.id for d in read_docs(work / "scored"))
    assert stored("embeddings_distilled") == sorted(d.id for d in read_docs(work / "rerated"))
    for stage in ("cluster", "assemble"):
        assert not any("embedded_here" in labels for labels in step_totals(logs_dir(config, stage)).values())
    fresh = [distilled_row(d) for d in read_docs(work / "rerated")] + [original_row(d) for d in
                                                                        read_docs(work / "high")]
    add_long_tail(fresh, k=config.merge.long_tail_k)  # embeds the rows' texts here, in one batch
    expected = {row["id"]: row["long_tail"] for row in fresh}
    rows = _rows(config)
    assert len(rows) > 20
    assert [r["long_tail"] for r in rows] == pytest.approx([expected[r["id"]] for r in rows], abs=2e-4)


def test_report_shows_every_cluster_and_escapes_text(run):
    from mixture_builder.distill.work_folder import read_docs

    config, _, _ = run
    html = (Path(config.output) / "report.html").read_text()
    for cluster in read_docs(config.work_dir / "clusters"):
        assert f'id="{cluster.id}"' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "rejected: bad_format" in html and "selected" in html
    assert "<link" not in html and "src=" not in html  # self-contained


def test_trl_sft_data_preparation_reads_the_messages(run, tmp_path: Path):
    """TRL's SFTTrainer tokenises the `messages` column with a chat template (tiny random model)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from trl import SFTConfig, SFTTrainer

    from mixture_builder.teacher.embedded import embedded_model_dir

    config, _, _ = run
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
    dataset = load_train(config.output).select_columns(["messages"])
    trainer = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=dataset,
                         args=SFTConfig(output_dir=str(tmp_path), max_length=256, use_cpu=True, report_to="none",
                                        per_device_train_batch_size=2, max_steps=1, assistant_only_loss=False))
    assert trainer.train_dataset.num_rows == dataset.num_rows
    short = min(range(dataset.num_rows), key=lambda i: sum(len(m["content"]) for m in dataset[i]["messages"]))
    text = tokenizer.decode(trainer.train_dataset[short]["input_ids"])
    user, assistant = dataset[short]["messages"]
    assert user["content"] in text and f"<|im_start|>assistant\n{assistant['content'][:40]}" in text


def test_cli_push_then_load_from_the_local_hub(run, tmp_path: Path):
    """`lm-mixup distill --config … --push REPO` on a finished run pushes without recomputing."""
    import yaml
    from datasets import load_dataset
    from typer.testing import CliRunner

    from hub.testing import local_hub
    from mixture_builder.cli import app

    _, stats, data = run
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    with local_hub(tmp_path / "hub"):
        result = CliRunner().invoke(app, ["distill", "--config", str(path), "--push", "lm-mixup/distilled-test"])
        assert result.exit_code == 0, result.output
        assert "pushed:" in result.output
        loaded = load_dataset("lm-mixup/distilled-test", split="train")
    assert loaded.num_rows == stats["output"]["rows"]
    assert set(loaded.column_names) >= {"instruction", "input", "output", "messages", "origin", "source_ids"}


@pytest.mark.slow
def test_killed_run_resumes_without_duplicates(raw_dir: Path, tmp_path: Path):
    """SIGKILL the CLI in the middle of the distill stage; the rerun finishes with the same rows as an
    uninterrupted run, no duplicates, and only the unfinished requests sent again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml

    from tests.mixture_builder.distill._fixtures_distill import is_distill_request

    with FakeOpenAIServer(scripted_teacher, latency=0.05) as server:
        data = real_pool_config(raw_dir, tmp_path / "out", server.base_url, limit=40)
        data["distiller"]["teacher"] = {**data["distiller"]["teacher"], "max_concurrency": 1}
        data["report"] = False
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data))
        proc = subprocess.Popen([sys.executable, "-c", "from mixture_builder.cli import main; main()", "distill",
                                 "--config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        deadline = time.monotonic() + 240
        while sum(map(is_distill_request, server.requests)) < 4:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the distill stage never started"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and any process it forked
        proc.wait()
        sent_before = sum(map(is_distill_request, server.requests))
        config = DistillConfig.from_yaml(path)
        assert not (Path(config.output) / "stats.json").exists()
        stats = run_distill(config)
        sent_total = sum(map(is_distill_request, server.requests))

        reference = DistillConfig.from_dict({**data, "output": str(tmp_path / "reference")})
        reference_stats = run_distill(reference)

    rows = _rows(config)
    assert len({r["id"] for r in rows}) == len(rows) == stats["output"]["rows"]
    clusters = stats["stages"]["cluster low"]["out"]
    assert sent_before < clusters  # it really was killed mid-stage
    assert sent_total <= clusters + 1  # finished requests came from the cache, not the endpoint
    key = lambda r: (r["id"], r["instruction"], r["output"], r["quality"])
    assert sorted(map(key, rows)) == sorted(map(key, _rows(reference)))
    assert stats["stages"] == reference_stats["stages"]


def test_every_distillation_rejected_still_writes_the_originals(tmp_path: Path):
    """The packaged pool, existing scores only (unscored rows dropped and counted), a distiller that never
    follows the format: the run finishes with the original high-quality rows, and every reject is counted."""
    from mixture_builder.distill.config import demo_pool_path
    from mixture_builder.readers import read_records

    with FakeOpenAIServer(lambda request: "I merged them, trust me.") as server:
        teacher = {"backend": "openai", "base_url": server.base_url, "model": "sloppy", "use_cache": False,
                   "progress": False}
        config = DistillConfig.from_dict({
            "output": str(tmp_path / "out"), "report": True,
            "scoring": {"rate_missing": False, "rater": teacher},
            "clustering": {"capacity": {"min_size": 2, "max_size": 8, "mean": 4, "std": 1}},
            "distiller": {"teacher": teacher},
        })
        stats = run_distill(config)
    stages = stats["stages"]
    unscored = sum(1 for d in read_records(str(demo_pool_path()))
                   if (d.metadata.get("quality_signals") or {}).get("quality") is None)
    assert stages["score"]["dropped"]["no_score"] <= unscored  # some unscored rows were duplicates
    assert stages["distill"]["out"] == 0 and stages["distill"]["dropped"] == {"bad_format": stages["distill"]["in"]}
    assert stages["re-rate"] == {"in": 0, "out": 0, "dropped": {}}
    rows = _rows(config)
    assert rows and all(r["origin"] == "original" for r in rows) and len(rows) == stats["output"]["original"]
    html = (Path(config.output) / "report.html").read_text()
    assert html.count("rejected: bad_format") == stages["distill"]["in"]
