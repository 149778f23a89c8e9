"""``EvalReport``: the figures of one evaluation, its saved completions, and how they are shown — eval.json,
a Markdown table (rows: distiller and baselines; overall, then per task type) and a bar chart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_cards.plots import bar_chart

EVAL_FILE = "eval.json"
TABLE_FILE = "results.md"
CHART_FILE = "eval.png"
HEADLINE = ("parsed", "format", "alignment_mean", "alignment_share", "quality")
"""The figures of the benchmark line and the chart."""
COLUMNS = (("parsed", "parsed"), ("format", "format"), ("format_structure", "format: tags"),
           ("format_pattern", "format: task pattern"), ("alignment_mean", "alignment (mean cos)"),
           ("alignment_share", "aligned (≥ thr)"), ("quality", "quality reward"), ("quality_score", "quality score"))


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


@dataclass
class EvalReport:
    """``meta`` (dataset, split, distiller settings, scorer settings), ``systems`` (name → ``{"overall",
    "per_task"}`` summaries) and ``records`` (per record: id, task type, reference, and per system the saved
    completion with its metrics)."""

    meta: dict[str, Any]
    systems: dict[str, dict[str, Any]]
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "systems": self.systems, "records": self.records}

    @classmethod
    def load(cls, path: str | Path) -> EvalReport:
        """Read an ``eval.json`` (or the folder holding one)."""
        path = Path(path)
        data = json.loads((path / EVAL_FILE if path.is_dir() else path).read_text(encoding="utf-8"))
        return cls(meta=data["meta"], systems=data["systems"], records=data.get("records", []))

    def headline(self) -> dict[str, dict[str, Any]]:
        """``{system: {parsed, format, alignment_mean, alignment_share, quality}}`` (overall)."""
        return {name: {k: s["overall"][k] for k in HEADLINE} for name, s in self.systems.items()}

    def to_markdown(self) -> str:
        """The overall table, the per-task table (format / alignment mean / quality per cell) and the parse
        failures by reason."""
        names = list(self.systems)
        lines = [f"| system | records | {' | '.join(label for _, label in COLUMNS)} |",
                 "|---|---:|" + "---:|" * len(COLUMNS)]
        for name in names:
            overall = self.systems[name]["overall"]
            cells = " | ".join(_cell(overall[key]) for key, _ in COLUMNS)
            lines.append(f"| {name} | {overall['records']} | {cells} |")
        tasks = sorted({t for s in self.systems.values() for t in s["per_task"]})
        lines += ["", "Per task type (format / alignment mean / quality reward):", "",
                  f"| system | {' | '.join(tasks)} |", "|---|" + "---|" * len(tasks)]
        for name in names:
            per_task = self.systems[name]["per_task"]
            cells = [" / ".join(_cell(per_task[t][k]) for k in ("format", "alignment_mean", "quality"))
                     if t in per_task else "–" for t in tasks]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines += ["", "Parse failures by reason:", ""]
        for name in names:
            failures = self.systems[name]["overall"]["failures"]
            text = ", ".join(f"{reason} {n}" for reason, n in failures.items()) or "none"
            lines.append(f"- {name}: {text}")
        return "\n".join(lines) + "\n"

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write eval.json, results.md and eval.png into ``folder``; returns their paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"eval": folder / EVAL_FILE, "table": folder / TABLE_FILE, "chart": folder / CHART_FILE}
        tmp = paths["eval"].with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(paths["eval"])
        paths["table"].write_text(self.title() + "\n\n" + self.to_markdown(), encoding="utf-8")
        series = {name: {k: v for k, v in values.items() if v is not None} for name, values in self.headline().items()}
        bar_chart(series, paths["chart"], title=self.title(), xlabel="metric", ylabel="share / mean")
        return paths

    def title(self) -> str:
        meta = self.meta
        return (f"{meta['distiller_name']} on {meta['dataset']} ({meta['dataset_config']}/{meta['split']}, "
                f"{meta['records']} records)")
