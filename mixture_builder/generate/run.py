"""What ``lm-mixup build`` does around the pipeline: config overrides, the dry-run plan, the summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixture_builder.console import stage_console
from mixture_builder.generate.config import DEMO_SOURCE, BuildConfig
from mixture_builder.generate.pipeline import BuildResult, build_mixture, check_work_dir, make_executors
from mixture_builder.generate.steps import TARGET
from mixture_builder.generate.teacher_steps import DegradeSamples, WriteSamples, source_steps
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.estimate import estimate
from mixture_builder.teacher.rater import QualityRater

DEMO_OUTPUT = "demo-output/mixture"


def load_config(
    path: str | Path | None = None,
    *,
    output: str | Path | None = None,
    push: str | None = None,
    no_cache: bool = False,
    limit: int | None = None,
) -> BuildConfig:
    """The config of ``path`` (None: the embedded demo, written to ``demo-output/mixture``) with the CLI's
    overrides applied."""
    config = BuildConfig.from_yaml(path) if path else demo_config()
    changes: dict[str, Any] = {}
    if output is not None:
        changes["output"] = str(output)
    if push:
        changes["push_to"] = push
    if no_cache:
        changes["teacher"] = dataclasses.replace(config.teacher, use_cache=False)
        if config.rater is not None:
            changes["rater"] = dataclasses.replace(config.rater, use_cache=False)
    if limit is not None:
        changes["sources"] = [dataclasses.replace(src, limit=limit) for src in config.sources]
    return dataclasses.replace(config, **changes) if changes else config


def demo_config() -> BuildConfig:
    """The embedded demo (the same settings as ``configs/build_demo.yaml``): the packaged corpus, the embedded
    SmolLM2-135M teacher and rater on CPU, sized to finish in minutes on two cores."""

    return BuildConfig(
        output=DEMO_OUTPUT,
        teacher=TeacherConfig(backend="embedded", max_tokens=112, reasoning_budget=32),
        tasks_per_passage=3,
        task_weights={"mcq": 3.0},
        inline_reasoning=["mcq"],
        repair_replies=False,
        quality_threshold=DEMO_QUALITY_THRESHOLD,
        keep_unrated=True,
        teacher_variants=1,
        noise_variants=4,
        cross_topic_min_similarity=0.2,
    )


DEMO_QUALITY_THRESHOLD = 0
"""The demo keeps every parsed target whatever the embedded 135M rater says: its scores are close to noise
and rarely reach the paper's ≥ 4, so that threshold would leave the demo nearly empty. Real builds keep the
paper's 4 (``BuildConfig.quality_threshold``)."""


@dataclass
class Plan:
    """What a build would do: documents, segments, and per teacher stage the calls, tokens and cost."""

    passages: int
    segments: int
    stages: dict[str, Any]

    @property
    def calls(self) -> int:
        return sum(e.calls for e in self.stages.values())


def make_plan(config: BuildConfig) -> Plan:
    """Read and segment the sources, then estimate every teacher stage with the teacher layer's estimator
    (cache hits are free). Rating and degrading are estimated on stand-in targets (one per write request,
    the size of a short sample) — upper bounds, as if every sample parsed and passed the rater."""
    from datatrove.data import Document

    stream = None
    for step in source_steps(config):
        stream = step(stream)
    segments = list(stream or [])
    writer = WriteSamples(config)
    stand_ins = [
        Document(text=seg.text[:600], id=f"{seg.id}/{task}", metadata={"kind": TARGET, "task": task})
        for seg in segments for task in writer.tasks_for(seg)
    ]
    stages = {"write": estimate(segments, config.teacher, step=writer),
              "rate": estimate(stand_ins, config.rater_config, step=QualityRater(config.rater_config, task_key="task", text_only=True))}
    if config.teacher_variants:
        stages["degrade"] = estimate(stand_ins, config.teacher, step=DegradeSamples(config))
    passages = len({doc.metadata.get("article_id", doc.id) for doc in segments})
    return Plan(passages, len(segments), stages)


def print_plan(config: BuildConfig) -> Plan:
    """Print the dry-run plan of ``config``."""
    plan = make_plan(config)
    sources = ", ".join("demo corpus" if s.path == DEMO_SOURCE else s.path for s in config.sources)
    lines = [
        f"lm-mixup build (dry run) → {config.output_dir}",
        f"  sources: {sources}",
        f"  passages: {plan.passages}, segments: {plan.segments}, tasks: {', '.join(config.tasks)}"
        + (f" ({config.tasks_per_passage} per passage)" if config.tasks_per_passage else ""),
        f"  teacher: {config.teacher.backend} {config.teacher.model_id}; rater: {config.rater_config.model_id}",
        ("  teacher calls, estimated (upper bounds; cached requests are free; reasoning requests for samples"
         " that lack it and repairs of unparsable replies come on top):"),
    ]
    for name, est in plan.stages.items():
        cost = f"${est.cost_usd:.2f}" if est.cost_usd is not None else "no prices configured"
        lines.append(f"    {name:<8} {est.calls:>6} calls ({est.cached} cached), prompt {est.prompt_tokens:,} tokens, "
                     f"completion ≤ {est.completion_tokens:,} tokens, cost {cost}")
    total_cost = [e.cost_usd for e in plan.stages.values() if e.cost_usd is not None]
    lines.append(f"    total    {plan.calls:>6} calls" + (f", ${sum(total_cost):.2f}" if total_cost else ""))
    lines.append(f"  executor: {config.executor.kind}, {config.executor.tasks} task(s)")
    print("\n".join(lines))
    return plan


def run_build(config: BuildConfig, *, fresh: bool = False, verbose: bool = False) -> BuildResult:
    """Run the build with one line per stage on stdout and the libraries' logs in
    ``{output}/.lm-mixup/logs/console.log`` (``verbose``: the logs on stderr instead; ``fresh``: start the work
    folder over)."""
    import logging

    logging.getLogger("mixture_builder").setLevel(logging.INFO)
    if verbose or config.executor.kind != "local":
        return build_mixture(config, fresh=fresh)
    check_work_dir(config, fresh=fresh)  # before the console opens its log in the work folder
    with stage_console(make_executors(config), config.work_dir / "logs" / "console.log"):
        return build_mixture(config)


def print_result(result: BuildResult) -> None:
    """Print where the output is, the counts per stage and how to load it."""
    stats = result.stats
    if not stats:
        print(f"Submitted. The dataset will be written to {result.output} (stats.json when finished).")
        return
    print(f"\nMIXTURE written to {result.output.resolve()}  ({result.wall_time_s:.0f} s)")
    print("Counts per stage (in → out, dropped by reason):")
    for name, stage in stats.get("stages", {}).items():
        dropped = ", ".join(f"{k} {v}" for k, v in (stage.get("dropped") or {}).items())
        print(f"  {name:<18} {stage.get('in')!s:>6} → {stage.get('out')!s:<6} {('dropped: ' + dropped) if dropped else ''}")
    for cfg, splits in stats.get("records", {}).items():
        print(f"  records {cfg}: " + ", ".join(f"{split} {n}" for split, n in splits.items()))
    usage = stats.get("teacher_usage") or {}
    if usage:
        print("Teacher usage: " + ", ".join(f"{k} {v}" for k, v in usage.items()))
    target = result.pushed_to or str(result.output.resolve())
    print("Load it with:")
    print("  from datasets import load_dataset")
    print(f'  sft = load_dataset("{target}", "sft")    # train / test')
    print(f'  grpo = load_dataset("{target}", "grpo")  # train / test')
