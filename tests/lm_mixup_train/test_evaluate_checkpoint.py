"""`lm-mixup evaluate distiller` on a checkpoint trained by `lm-mixup train sft` (the tiny test model): from a
local folder and from the local Hub server, with `--card` results that `huggingface_hub.ModelCard` reads back."""

from __future__ import annotations

import json

import yaml

from hub.testing import local_hub_endpoint  # noqa: F401  (fixture)
from tests._cli import run_cli


def evaluate(checkpoint: str, mixture_dir, library, output, cache) -> dict:
    teacher = cache.parent / "teacher.yaml"
    teacher.write_text(yaml.safe_dump({"teacher": {"cache_path": str(cache), "progress": False}}))
    out = run_cli("evaluate", "distiller", "--dataset", str(mixture_dir), "--checkpoint", checkpoint,
                  "--max-new-tokens", "64", "--quality-library", str(library), "--output", str(output),
                  "--teacher-config", str(teacher), "--card")
    assert "| longest_input |" in out and "| first_input |" in out and "Parse failures by reason" in out
    return json.loads(out.strip().splitlines()[-1])


def test_trained_checkpoint_local_and_hub_with_card(tmp_path, tiny_model_dir, mixture_dir, quality_library_path,
                                                    local_hub_endpoint):  # noqa: F811
    from huggingface_hub import ModelCard

    sft_yaml = tmp_path / "sft.yaml"
    sft_yaml.write_text(yaml.safe_dump({
        "model_name_or_path": str(tiny_model_dir), "dataset": str(mixture_dir), "output_dir": str(tmp_path / "sft"),
        "max_steps": 5, "learning_rate": 3e-3, "per_device_train_batch_size": 4, "max_length": 1024,
        "use_cpu": True, "bf16": False, "report_to": "none", "disable_tqdm": True, "save_strategy": "no"}))
    run_cli("train", "sft", "--config", str(sft_yaml))
    final = tmp_path / "sft" / "final"

    headline = evaluate(str(final), mixture_dir, quality_library_path, tmp_path / "ev_local", tmp_path / "c.sqlite")
    assert set(headline) == {str(final), "longest_input", "first_input"}
    assert set(headline["first_input"]) == {"parsed", "format", "alignment_mean", "alignment_share", "quality"}
    saved = json.loads((tmp_path / "ev_local" / "eval.json").read_text())
    assert saved["meta"]["generation"]["kind"] == "checkpoint" and len(saved["records"]) == 4
    assert saved["meta"]["generation"]["guidance"] == "local"
    assert headline[str(final)]["parsed"] == 1.0  # format-guided: every completion parses
    card = ModelCard.load(final / "README.md")
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["format"] == headline[str(final)]["format"] and "alignment_share" in results
    assert {r.dataset_split for r in card.data.eval_results} == {"test"}
    assert "Evaluation on MIXTURE" in card.text
    # a second run replaces the results instead of piling them up
    evaluate(str(final), mixture_dir, quality_library_path, tmp_path / "ev_local2", tmp_path / "c.sqlite")
    assert len(ModelCard.load(final / "README.md").data.eval_results) == len(results)

    run_cli("push", str(final), "test-org/tiny-lm-mixup", "--repo-type", "model")
    hub = evaluate("test-org/tiny-lm-mixup", mixture_dir, quality_library_path, tmp_path / "ev_hub",
                   tmp_path / "c2.sqlite")
    assert hub["test-org/tiny-lm-mixup"] == headline[str(final)]  # same weights, greedy: same figures
    hub_card = ModelCard.load("test-org/tiny-lm-mixup")
    assert {r.metric_type for r in hub_card.data.eval_results} == set(results)
    assert "lm-mixup evaluate distiller" in hub_card.data.eval_results[0].task_name
