"""A selection baseline's card: the shared dataset card (as distill writes it) plus a ``Selection`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
from mixture_builder.select.config import SelectConfig
from mixture_builder.teacher.rater import RATE_TEMPLATE
from mixture_builder.teacher.templates import load_template

DESCRIPTIONS: dict[str, str] = {
    "random": "a uniform random sample of the pool (seeded)",
    "top-k": "the highest-rated samples of the pool (AlpaGasus-style; equal scores in seeded random order)",
    "ds2": "the best samples by quality score, then by long-tail diversity score (DS2's ranking)",
    "full": "every deduplicated, scored sample of the pool",
}


def selection_section(method: str, stats: dict[str, Any]) -> str:
    """The card's ``Selection`` section (Markdown)."""
    params = stats["parameters"]
    size = ("all" if method == "full" else f"{params['size']} rows" if params["size"] is not None
            else f"fraction {params['fraction']}")
    lines = ["## Selection", "",
             f"- Method: **{method}**: {DESCRIPTIONS[method]}; requested size: {size}; seed {params['seed']}.",
             (f"- Rows: **{stats['output']['rows']}** of {stats['pool_rows']} deduplicated, scored pool records "
             f"({stats['input_records']} records read; {stats['fraction_kept']:.1%} of them kept)."),
             ("- Rows are original pool samples, unchanged (`origin` = `original`), with the same columns as a "
             "`lm-mixup distill` output, so the two compare directly."),
             "", "Quality scores (0–5) of the pool and of the selected rows:", "",
             "| Quality | Pool | Selected |", "|---|---:|---:|"]
    after = stats["quality_after"]["original"]
    for key in sorted({*stats["quality_before"], *after}, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0)):
        lines.append(f"| {key} | {stats['quality_before'].get(key, 0)} | {after.get(key, 0)} |")
    return "\n".join(lines) + "\n"


def write_select_card(config: SelectConfig, method: str, folder: Path, stats: dict[str, Any]) -> Path:
    """Write ``folder/README.md``; ``stats.json`` keeps the card's inputs so ``lm-mixup card`` renders it again."""
    templates: dict[str, str] = {}
    if config.scoring.rate_missing:
        templates["rate_quality"] = load_template(RATE_TEMPLATE).version
    sources = [{"name": p.source or Path(p.path).name, "license": p.license, "path": p.path}
               for p in config.pools]
    info = DatasetCardInfo(
        pretty_name=f"{method} selection baseline of {', '.join(s['name'] for s in sources)}",
        kind="selected",
        summary=(f"{stats['output']['rows']} instruction samples selected by **{method}** ({DESCRIPTIONS[method]}) "
                 f"out of {stats['input_records']} input records: a data-selection baseline for LM-Mixup."),
        stages=stats["stages"],
        parameters=stats["parameters"],
        rater=stats["rater"],
        templates=templates,
        sources=sources,
        tags=["alpaca", "sft", "data-selection"],
        extra_markdown=selection_section(method, stats),
    )
    return write_dataset_card(folder, info)
