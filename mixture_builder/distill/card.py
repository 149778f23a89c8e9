"""The distilled dataset's card: the shared dataset card plus what only distillation knows (how much of the
pool was kept, scores before/after, a few clusters next to their distillation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.distiller import distill_template
from mixture_builder.distill.select import distilled_row
from mixture_builder.distill.work_folder import read_docs
from mixture_builder.teacher.rater import RATE_TEMPLATE
from mixture_builder.teacher.templates import load_template

EXAMPLES = 3
"""Clusters shown next to their distillation in the card."""


def clusters_by_id(config: DistillConfig) -> dict[str, dict[str, Any]]:
    """Cluster documents of the run as ``{cluster id: metadata + text}``."""

    return {d.id: {**d.metadata, "text": d.text} for d in read_docs(config.work_dir / "clusters")}


def write_card(config: DistillConfig, stats: dict[str, Any], chosen_distilled: list[dict[str, Any]]) -> Path:
    """Write ``README.md``: the shared dataset card with the distillation section as its extra Markdown, which
    ``stats.json`` keeps (``card_markdown``) so ``lm-mixup card DIR`` renders the same card again."""

    templates = {"distill": distill_template().version}
    if config.merge.rerate or config.scoring.rate_missing:
        # The rater's packaged template: the run's fingerprint loaded it before any work, so it loads here too;
        # if it cannot, the loader's one-line ConfigError is raised rather than a card missing its version.
        templates["rate_quality"] = load_template(RATE_TEMPLATE).version
    info = DatasetCardInfo(
        pretty_name=config.pretty_name,
        kind="distilled",
        summary=(f"{stats['output']['rows']} instruction samples: {stats['output']['distilled']} distilled from "
                 f"clusters of low-quality samples and {stats['output']['original']} original high-quality "
                 f"samples, out of {stats['input_records']} input records."),
        stages=stats["stages"],
        parameters=stats["parameters"],
        teacher=stats["distiller"],
        rater=stats["rater"],
        templates=templates,
        sources=[{"name": p.source or Path(p.path).name, "license": p.license, "path": p.path} for p in config.pools],
        repo_id=config.push_to,
        tags=["alpaca", "sft"],
        extra_markdown=distill_section(stats, _examples(config, chosen_distilled), clusters_by_id(config)),
    )
    return write_dataset_card(config.output, info)


def _examples(config: DistillConfig, chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to ``EXAMPLES`` distillations to show: selected ones first, then parsed ones that were not kept
    (marked ``kept=False``), so a run whose distillations all failed re-rating still shows some."""

    examples = [{**row, "kept": True} for row in chosen[:EXAMPLES]]
    if len(examples) < EXAMPLES:
        seen = {row["id"] for row in chosen}
        for doc in read_docs(config.work_dir / "distilled"):
            row = distilled_row(doc)
            if row["id"] not in seen:
                examples.append({**row, "kept": False})
            if len(examples) == EXAMPLES:
                break
    return examples


def _md(text: str, limit: int = 400) -> str:
    """Text for a Markdown blockquote line: one line, shortened, with Markdown/HTML specials escaped."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    for char in ("\\", "`", "*", "_", "[", "]", "<", ">", "|", "#"):
        flat = flat.replace(char, "\\" + char)
    return flat


def distill_section(stats: dict[str, Any], chosen: list[dict[str, Any]], clusters: dict[str, dict[str, Any]]) -> str:
    """The card's ``Distillation`` section (Markdown)."""
    lines = ["## Distillation", ""]
    lines.append(f"- Input records: **{stats['input_records']}**; output rows: **{stats['output']['rows']}** "
                 f"({stats['output']['distilled']} distilled, {stats['output']['original']} original).")
    lines.append(f"- Fraction of the input pool kept as rows: **{stats['fraction_kept']:.1%}**; input records "
                 f"represented (originals + members of the distilled clusters): {stats['input_records_represented']}"
                 f" ({stats['fraction_represented']:.1%}).")
    lines += ["", "Quality scores (0–5) before (every scored input record) and after (output rows):", "",
              "| Quality | Before | After: distilled | After: original |", "|---|---:|---:|---:|"]
    after = stats["quality_after"]
    keys = sorted({*stats["quality_before"], *after["distilled"], *after["original"]},
                  key=lambda k: (not k.lstrip("-").isdigit(), int(k) if k.lstrip("-").isdigit() else 0, k))
    for key in keys:
        lines.append(f"| {key} | {stats['quality_before'].get(key, 0)} | {after['distilled'].get(key, 0)} | "
                     f"{after['original'].get(key, 0)} |")
    examples = [r for r in chosen if r["id"].replace("distilled/", "cluster/", 1) in clusters]
    if examples:
        lines += ["", "### Examples: clusters and their distillation", ""]
    for row in examples:
        cluster = clusters[row["id"].replace("distilled/", "cluster/", 1)]
        scores = (f"quality {row['quality']}, long-tail {row['long_tail']:.3f}" if row["kept"]
                  else "not kept: failed re-rating")
        lines += [f"**{row['id']}** ({scores}) merged {len(cluster['members'])} samples:", ""]
        for member in cluster["members"]:
            lines.append(f"> *{_md(member['id'])}* (quality {member['quality']}): {_md(member['instruction'], 160)}"
                         f" → {_md(member['output'], 200)}  ")
        lines += ["", f"Distilled — **Instruction:** {_md(row['instruction'])}  ",
                  f"**Output:** {_md(row['output'], 800)}", ""]
    return "\n".join(lines) + "\n"
