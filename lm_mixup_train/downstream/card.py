"""The "Evaluation" section of each candidate's dataset card.

The section sits between two HTML-comment markers and replaces an earlier one on every run. A folder with a
``stats.json`` (``build``/``distill``/``select`` outputs) keeps it in ``card_markdown``, the extra Markdown the
card is regenerated from, so ``lm-mixup card DIR`` keeps it too; other folders get it in ``README.md``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from dataset_cards.regenerate import regenerate_card

from .config import DownstreamConfig
from .results import markdown_tables

START = "<!-- lm-mixup:evaluation -->"
END = "<!-- /lm-mixup:evaluation -->"
FIGURE = "figures/downstream_evaluation.png"


def replace_section(text: str, section: str) -> str:
    """``text`` with its marked Evaluation section replaced by ``section`` (appended when it has none)."""
    block = f"{START}\n{section.strip()}\n{END}"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else block + "\n"


def evaluation_section(summary: dict[str, Any], config: DownstreamConfig, candidate: str, tasks: list[str]) -> str:
    """Markdown: what was trained and measured, the table with intervals, differences, how to read it."""
    t, lora = config.training, config.lora
    return "\n".join([
        "## Evaluation",
        "",
        (f"Downstream A/B (`lm-mixup evaluate downstream`): `{config.base_model}` fine-tuned with LoRA (r {lora.r}, "
        f"α {lora.alpha}, dropout {lora.dropout}; lr {t.learning_rate:g}, {t.num_train_epochs:g} epochs, max length "
        f"{t.max_length}, seed {t.seed}; loss on the response only) on each candidate, then evaluated with "
        "lm-evaluation-harness. This dataset is the row "
        f"**{candidate}**. Scores in % (held-out NLL in nats per token, lower is better), 95% bootstrap "
        "intervals over examples in brackets."),
        "",
        markdown_tables(summary, tasks),
        "",
        f"![Downstream evaluation]({FIGURE})",
    ])


def write_card_section(folder: Path, section: str, chart: Path | None) -> Path:
    """Put ``section`` into the card of ``folder``; returns the card's path."""
    if chart is not None and chart.is_file():
        (folder / FIGURE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chart, folder / FIGURE)
    stats_file = folder / "stats.json"
    if stats_file.is_file():
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        stats["card_markdown"] = replace_section(str(stats.get("card_markdown") or ""), section)
        stats_file.write_text(json.dumps(stats, indent=2, default=str) + "\n", encoding="utf-8")
        return regenerate_card(folder, "dataset")
    readme = folder / "README.md"
    readme.write_text(replace_section(readme.read_text(encoding="utf-8") if readme.is_file() else "", section),
                      encoding="utf-8")
    return readme
