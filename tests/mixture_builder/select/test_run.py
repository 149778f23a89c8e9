"""`lm-mixup select` end to end on real pools: CaR's scored Alpaca selection (existing scores, no rater call)
and Alpaca + Dolly after a `distill` run on the same config (the scripted fake teacher counts requests: select
sends none). Each baseline loads with `datasets`, has distill's columns, provenance and a card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mixture_builder.clustering.embeddings import embed_texts
from mixture_builder.clustering.steps import gather_vectors
from mixture_builder.distill.assemble import read_docs
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import run_distill
from mixture_builder.distill.select import OUTPUT_COLUMNS, add_long_tail, long_tail_text
from mixture_builder.select import SelectConfig, run_select
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import (
    is_distill_request,
    load_train,
    real_pool_config,
    scripted_teacher,
)

CAR = "car_expert_revised/CaR_selected_result.json"
LIMIT = 60


def _teacher(url: str, cache: Path) -> dict:
    return {"backend": "openai", "base_url": url, "model": "scripted", "max_retries": 1,
            "cache_path": str(cache), "progress": False}


@pytest.fixture(scope="module")
def car(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """All four baselines from 60 CaR records with existing scores; the rater is on but has nothing to rate."""
    root = tmp_path_factory.mktemp("select_car")
    with FakeOpenAIServer(scripted_teacher) as server:
        data = {"pools": [{"path": str(raw_dir / CAR), "limit": LIMIT}],
                "scoring": {"score_column": "score", "rater": _teacher(server.base_url, root / "cache.sqlite")},
                "merge": {"long_tail_k": 5},
                "selection": {"size": 12, "seed": 5, "output": str(root / "out")}}
        config = SelectConfig.from_dict(data)
        summary = run_select(config)
        yield config, summary, data, server


def _rows(config: SelectConfig, method: str) -> list[dict]:
    return load_train(Path(config.selection.output) / method).to_list()


def _raw_scores(raw_dir: Path) -> dict[str, float]:
    records = json.loads((raw_dir / CAR).read_text())[:LIMIT]
    return {f"{CAR}:{i}": r["score"] for i, r in enumerate(records)}


def test_every_baseline_loads_with_distill_columns_and_provenance(car, raw_dir: Path):
    config, summary, _, _ = car
    raw = _raw_scores(raw_dir)
    assert set(summary["methods"]) == {"random", "top-k", "ds2", "full"}
    for method, result in summary["methods"].items():
        rows = _rows(config, method)
        assert len(rows) == result["rows"] == (summary["pool"] if method == "full" else 12)
        assert tuple(load_train(result["path"]).column_names) == OUTPUT_COLUMNS
        assert len({r["id"] for r in rows}) == len(rows)
        for row in rows:
            assert row["origin"] == "original" and row["source_ids"] == [row["id"]] and row["id"] in raw
            assert row["sources"] == ["car_expert_revised"] and row["licenses"] == ["unknown"]
            assert row["quality"] == round(raw[row["id"]])  # CaR's score, rounded onto 0–5 by distill's scoring
            assert row["messages"][-1] == {"role": "assistant", "content": row["output"]}


def test_top_k_holds_the_highest_car_scores_and_ds2_ranks_by_quality_then_long_tail(car, raw_dir: Path):
    config, _, _, _ = car
    raw = _raw_scores(raw_dir)
    pool = {r["id"] for r in _rows(config, "full")}
    best = sorted(pool, key=lambda i: -raw[i])[:12]
    top_k = _rows(config, "top-k")
    assert [r["id"] for r in top_k] == best
    ds2 = _rows(config, "ds2")
    keys = [(r["quality"], r["long_tail"]) for r in ds2]
    assert keys == sorted(keys, reverse=True)
    assert all(0.0 <= r["long_tail"] <= 1.0 for r in ds2)
    better = {r["id"] for r in _rows(config, "full") if r["quality"] > ds2[-1]["quality"]}
    assert better <= {r["id"] for r in ds2}  # quality first
    assert {r["id"] for r in ds2} != {r["id"] for r in top_k}  # then diversity, not the raw score
    assert all(r["long_tail"] is None for m in ("random", "top-k", "full") for r in _rows(config, m))


def test_ds2_long_tail_comes_from_the_sharded_embed_stage(car):
    config, _, _, _ = car
    full = _rows(config, "full")
    vectors, found = gather_vectors([Path(config.selection.output) / ".lm-mixup" / "embeddings"],
                                    [r["id"] for r in full])
    assert found.all()  # every pool record was embedded by the embed stage, none in the select process
    assert np.allclose(vectors, embed_texts([long_tail_text(r) for r in full]), atol=1e-5)
    add_long_tail(full, k=5, vectors=vectors)
    expected = {r["id"]: r["long_tail"] for r in full}
    assert all(row["long_tail"] == expected[row["id"]] for row in _rows(config, "ds2"))


def test_stats_and_card_say_method_size_and_counts(car):
    config, summary, _, _ = car
    for method in ("random", "full"):
        folder = Path(config.selection.output) / method
        stats = json.loads((folder / "stats.json").read_text())
        assert stats["method"] == method and stats["pipeline"] == "selected"
        assert stats["input_records"] == LIMIT and stats["teacher_usage"]["score"].get("requests", 0) == 0
        stages = stats["stages"]
        assert list(stages)[:2] == ["read", "normalise"] and list(stages)[-1] == f"select ({method})"
        for stage in stages.values():
            assert stage["in"] == stage["out"] + sum(stage["dropped"].values()) + stage.get("merged", 0)
        assert stages[f"select ({method})"]["out"] == summary["methods"][method]["rows"]
        assert stages["score"]["out"] == summary["pool"] == stats["pool_rows"]
        card = (folder / "README.md").read_text()
        assert "## Selection" in card and f"Method: **{method}**" in card
        assert ("requested size: all" if method == "full" else "requested size: 12 rows") in card


def test_a_rerun_is_deterministic_and_resumes_the_pool(car, tmp_path: Path):
    config, summary, data, server = car
    again = SelectConfig.from_dict({**data, "selection": {"methods": ["random", "top-k"], "size": 12, "seed": 5,
                                                          "output": str(tmp_path / "again")}})
    run_select(again)
    for method in ("random", "top-k"):
        assert _rows(again, method) == _rows(config, method)
    assert not (tmp_path / "again" / ".lm-mixup" / "embeddings").exists()  # only ds2 needs the embed stage
    other_seed = SelectConfig.from_dict({**data, "selection": {"methods": ["random"], "fraction": 0.2, "seed": 6,
                                                               "output": config.selection.output}})
    first = {r["id"] for r in _rows(config, "random")}
    scored = sorted((Path(config.selection.output) / ".lm-mixup" / "scored").glob("*.jsonl.gz"))
    mtimes = [p.stat().st_mtime_ns for p in scored]
    result = run_select(other_seed)["methods"]["random"]
    assert [p.stat().st_mtime_ns for p in scored] == mtimes  # selection settings do not redo the pool stages
    assert result["rows"] == round(0.2 * summary["pool"])
    assert {r["id"] for r in _rows(other_seed, "random")} != first  # rewritten in place with the new seed
    assert not server.requests  # existing scores only: the rater never called the endpoint


def test_select_after_distill_sends_no_rating_request(raw_dir: Path, tmp_path: Path):
    with FakeOpenAIServer(scripted_teacher) as server:
        data = real_pool_config(raw_dir, tmp_path / "distilled", server.base_url, limit=25, report=False)
        distill = DistillConfig.from_dict(data)
        run_distill(distill)
        ratings = [r for r in server.requests if not is_distill_request(r)]
        sent = len(server.requests)
        config = SelectConfig.from_dict({**data, "selection": {"methods": ["random", "full"], "size": 10,
                                                               "output": str(tmp_path / "baselines")}})
        summary = run_select(config)
        assert len(server.requests) == sent  # every rating came from the teacher cache
    usage = summary["teacher_usage"]["score"]
    assert usage.get("requests", 0) == 0 and usage["cache_hits"] > 0
    distill_scored = {d.id: d.metadata["quality"] for d in read_docs(distill.work_dir / "scored")}
    assert len(ratings) >= len(distill_scored) > 0
    full = {r["id"]: r["quality"] for r in _rows(config, "full")}
    assert full == distill_scored  # the same deduplicated, scored pool as distill's
    assert len(_rows(config, "random")) == 10


def test_a_pool_without_scores_is_one_line_error_naming_the_counts(tmp_path: Path):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"instruction": f"Say {w}.", "input": "", "output": w}) + "\n"
                            for w in ("alpha", "beta", "gamma")))
    config = SelectConfig.from_dict({"pools": [{"path": str(pool)}], "scoring": {"rate_missing": False},
                                     "selection": {"methods": ["full"], "output": str(tmp_path / "out")}})
    with pytest.raises(ValueError) as info:
        run_select(config)
    text = str(info.value)
    assert "\n" not in text and "no deduplicated, scored records" in text and '"score": 0' in text
    assert not (tmp_path / "out" / "full").exists()


def test_cli_writes_baselines_that_load(raw_dir: Path, tmp_path: Path, capsys):
    from mixture_builder.cli import main

    config_file = tmp_path / "select.yaml"
    config_file.write_text(f"pools: [{{path: {raw_dir / CAR}, limit: 30}}]\n"
                           "scoring: {score_column: score, rate_missing: false}\n")
    out = tmp_path / "baselines"
    with pytest.raises(SystemExit) as info:
        main(["select", "-c", str(config_file), "-m", "random,top-k", "-m", "full", "-n", "5", "-o", str(out)])
    assert info.value.code == 0
    printed = capsys.readouterr().out
    assert "pool: 30 deduplicated, scored records of 30 read (rating requests: 0" in printed
    for method, rows in (("random", 5), ("top-k", 5), ("full", 30)):
        assert f"{method}: {rows} rows → {out / method}" in printed
        assert len(load_train(out / method)) == rows
