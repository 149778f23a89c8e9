"""Intrinsic evaluation on a demo MIXTURE: the embedded teacher (SmolLM2-135M) against the two trivial baselines
(longest input item, first input item), then SmolLM2 trained with `train sft` and after `train grpo` (the CPU
presets, few steps), each scored by `lm-mixup evaluate distiller` on the same test records.

    python benchmarks/evaluate_distiller.py [MIXTURE_DIR] [--limit 8] [--sft-steps 3] [--grpo-steps 1]

Without MIXTURE_DIR the embedded demo MIXTURE is built first (~6 min on 2 CPU cores). The quality library is
built from the MIXTURE's train splits with the embedded rater (cached). Last line: one JSON object with, per
distiller and baseline, `parsed`, `format`, `alignment_mean`, `alignment_share`, `quality`, plus timings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_mixture(work: Path) -> Path:
    from mixture_builder.generate.run import load_config, run_build

    return Path(run_build(load_config(output=work / "mixture")).output)


def evaluate(mixture: Path, library: Path, output: Path, limit: int, max_new_tokens: int, checkpoint: str | None):
    from lm_mixup_train.evaluate import EvalConfig, evaluate_distiller

    config = EvalConfig.from_dict({
        "dataset": str(mixture), "limit": limit, "quality_library": str(library), "output": str(output),
        "distiller": {"checkpoint": checkpoint, "max_new_tokens": max_new_tokens, "batch_size": 8}})
    report = evaluate_distiller(config)
    print(report.to_markdown(), flush=True)
    return report


def train(kind: str, overrides: dict) -> Path:
    from lm_mixup_train.config import LMMixupGRPOConfig, LMMixupSFTConfig, load_config
    from lm_mixup_train.trainers import run_grpo, run_sft

    cls, run = (LMMixupSFTConfig, run_sft) if kind == "sft" else (LMMixupGRPOConfig, run_grpo)
    return run(load_config(cls, ROOT / "configs" / f"train_{kind}_cpu.yaml", overrides))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mixture", nargs="?", help="MIXTURE folder (default: build the embedded demo)")
    parser.add_argument("--work", default="demo-output/evaluate_distiller", help="working folder")
    parser.add_argument("--limit", type=int, default=8, help="test records evaluated")
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--sft-steps", type=int, default=3)
    parser.add_argument("--grpo-steps", type=int, default=1)
    args = parser.parse_args()
    from lm_mixup_train.rewards.quality_library import build_quality_library

    work = Path(args.work)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    mixture = Path(args.mixture) if args.mixture else build_mixture(work)
    seconds["build"] = time.perf_counter() - start
    start = time.perf_counter()
    library_path = work / "quality_library"
    library = build_quality_library(str(mixture), library_path)
    print(f"quality library: {library.meta}", flush=True)
    seconds["library"] = time.perf_counter() - start

    figures: dict[str, dict] = {}
    start = time.perf_counter()
    teacher = evaluate(mixture, library_path.with_suffix(".npz"), work / "eval_teacher", args.limit,
                       args.max_new_tokens, None)
    for name, values in teacher.headline().items():
        figures["embedded teacher" if name == teacher.meta["distiller_name"] else name] = values
    seconds["eval_teacher"] = time.perf_counter() - start

    common = {"dataset": str(mixture), "save_strategy": "no", "logging_steps": 1}
    start = time.perf_counter()
    sft = train("sft", {**common, "output_dir": str(work / "sft"), "max_steps": args.sft_steps})
    seconds["train_sft"] = time.perf_counter() - start
    start = time.perf_counter()
    report = evaluate(mixture, library_path.with_suffix(".npz"), work / "eval_sft", args.limit,
                      args.max_new_tokens, str(sft))
    figures["sft checkpoint"] = report.headline()[str(sft)]
    seconds["eval_sft"] = time.perf_counter() - start
    start = time.perf_counter()
    grpo = train("grpo", {**common, "model_name_or_path": str(sft), "output_dir": str(work / "grpo"),
                          "max_steps": args.grpo_steps, "max_completion_length": 128,
                          "quality_library": str(library_path.with_suffix(".npz"))})
    seconds["train_grpo"] = time.perf_counter() - start
    start = time.perf_counter()
    report = evaluate(mixture, library_path.with_suffix(".npz"), work / "eval_grpo", args.limit,
                      args.max_new_tokens, str(grpo))
    figures["grpo checkpoint"] = report.headline()[str(grpo)]
    seconds["eval_grpo"] = time.perf_counter() - start
    print(json.dumps({"records": teacher.meta["records"], "mixture": str(mixture), "figures": figures,
                      "seconds": {k: round(v, 1) for k, v in seconds.items()}}))


if __name__ == "__main__":
    main()
