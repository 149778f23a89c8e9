"""Dataset cards for MIXTURE and distilled datasets: ``DatasetCardData`` + a Jinja template + plots.

The card is computed from what is on disk (the folder's Parquet shards, see :mod:`dataset_cards.folder_stats`)
plus what only the pipeline knows (:class:`DatasetCardInfo`: stages, counts per stage, models, templates,
sources). Figures go to ``figures/*.png`` in the folder and are referenced from ``README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from dataset_cards.build_stats import record_card_info
from dataset_cards.card_info import DatasetCardInfo
from dataset_cards.columns import describe_columns
from dataset_cards.folder_stats import FolderStats, read_folder_stats
from dataset_cards.folder_yaml import folder_metadata
from dataset_cards.licenses import license_metadata, license_table
from dataset_cards.plots import bar_chart, value_sort_key
from dataset_cards.redact import strip_secrets
from mixture_builder.errors import ConfigError

LM_MIXUP_CITATION = """@article{lmmixup2025,
  title={LM-mixup: Text Data Augmentation via Language Model based Mixup},
  journal={arXiv preprint arXiv:2510.20449},
  year={2025}
}"""
"""BibTeX of the LM-Mixup paper (arXiv 2510.20449)."""

FIGURES_DIR = "figures"

_SIZE_CATEGORIES = [
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
    (10**10, "1B<n<10B"), (10**11, "10B<n<100B"), (10**12, "100B<n<1T"),
]  # fmt: skip


def write_dataset_card(out_dir: str | Path, info: DatasetCardInfo, *, record_info: bool = True) -> Path:
    """Render ``out_dir/README.md`` (and ``out_dir/figures/*.png``) from the folder's shards and ``info``.

    With ``record_info``, ``info`` is also merged into ``out_dir/stats.json`` (see
    :mod:`dataset_cards.build_stats`) so ``lm-mixup card`` can render the same card again.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    out = Path(out_dir)
    stats = read_folder_stats(out)
    if not stats.rows:
        raise ConfigError(
            f"no Parquet shards found in {out}",
            fix="write the data first (dataset_cards.layout.write_dataset_folder), then the card",
        )
    figures = _write_figures(out, stats)
    licenses = license_metadata(stats.licenses, declared=info.licenses)
    source_ids = list(
        dict.fromkeys([*info.source_datasets, *(s["hub_id"] for s in info.sources if s.get("hub_id"))])
    )
    card_data = DatasetCardData(
        pretty_name=info.pretty_name,
        language=info.language or None,
        task_categories=info.task_categories or None,
        size_categories=[size_category(stats.total_rows)],
        source_datasets=source_ids or None,
        annotations_creators=["machine-generated"],
        tags=list(
            dict.fromkeys(["lm-mixup", "instruction-distillation", "synthetic", info.kind, *info.tags])
        ),
        **folder_metadata(out, default_config=info.default_config),  # configs + dataset_info
        **licenses,
    )
    context = _template_context(info, stats, figures, card_data)
    template = (
        resources.files("dataset_cards").joinpath("templates/dataset_card.md").read_text(encoding="utf-8")
    )
    card = DatasetCard.from_template(card_data, template_str=template, **context)
    path = out / "README.md"
    card.save(path)
    if record_info:
        record_card_info(out, info)
    return path


def size_category(n: int) -> str:
    """The Hub's size category for ``n`` rows (``"n<1K"``, ``"1K<n<10K"``, …)."""
    for limit, name in _SIZE_CATEGORIES:
        if n < limit:
            return name
    return "n>1T"


def stage_rows(stages: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per stage: in, out, dropped (total and by reason), added, merged, and
    ``unaccounted = in + added − out − dropped − merged`` (0 when the numbers add up; ``None`` when ``in`` or
    ``out`` is unknown). ``added`` counts records a stage creates beyond one per input (a writer producing
    several samples per passage); ``merged`` counts inputs folded into another record (clustering)."""
    rows = []
    for name, stage in stages.items():
        dropped = {str(k): int(v) for k, v in (stage.get("dropped") or {}).items()}
        n_in, n_out = stage.get("in"), stage.get("out")
        added, merged = int(stage.get("added") or 0), int(stage.get("merged") or 0)
        unaccounted = None
        if n_in is not None and n_out is not None:
            unaccounted = int(n_in) + added - int(n_out) - sum(dropped.values()) - merged
        rows.append(
            {
                "name": name,
                "in": n_in,
                "out": n_out,
                "dropped_total": sum(dropped.values()),
                "dropped": dropped,
                "added": added,
                "merged": merged,
                "unaccounted": unaccounted,
                "params": strip_secrets(stage.get("params") or {}),
                "note": stage.get("note", ""),
            }
        )
    return rows


def _write_figures(out: Path, stats: FolderStats) -> dict[str, str]:
    figures_dir = out / FIGURES_DIR
    for old in figures_dir.glob("*.png") if figures_dir.is_dir() else []:
        old.unlink()
    figures: dict[str, str] = {}
    if stats.quality:
        bar_chart(stats.quality, figures_dir / "quality.png", title="Quality score", xlabel="quality (0–5)")
        figures["quality"] = f"{FIGURES_DIR}/quality.png"
    if stats.cluster_sizes:
        bar_chart(
            stats.cluster_sizes, figures_dir / "cluster_size.png", title="Cluster size", xlabel="inputs"
        )
        figures["cluster_size"] = f"{FIGURES_DIR}/cluster_size.png"
    tasks = {config: _sum_counters(splits.values()) for config, splits in stats.task_types.items() if splits}
    if tasks:
        bar_chart(tasks, figures_dir / "task_types.png", title="Records per task type", xlabel="task type")
        figures["task_types"] = f"{FIGURES_DIR}/task_types.png"
    return figures


def table_cells(value: Any) -> Any:
    """``value`` with every string made safe for one Markdown table cell (``|`` escaped, one line)."""
    if isinstance(value, str):
        return " ".join(value.replace("|", "\\|").split())
    if isinstance(value, dict):
        return {table_cells(k): table_cells(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(table_cells(v) for v in value)
    return value


def _sum_counters(counters: Any) -> dict[Any, int]:
    total: dict[Any, int] = {}
    for counter in counters:
        for key, value in counter.items():
            total[key] = total.get(key, 0) + value
    return total


def _distribution_table(series: dict[str, Any]) -> dict[str, Any]:
    """``{config: Counter}`` → ``{"columns": [configs], "rows": [{"value", "counts": [...], "total"}]}``."""
    values = sorted({v for counts in series.values() for v in counts}, key=value_sort_key)
    rows = []
    for value in values:
        counts = [series[config].get(value, 0) for config in series]
        rows.append({"value": value, "counts": counts, "total": sum(counts)})
    return {"columns": list(series), "rows": rows}


def _template_context(
    info: DatasetCardInfo, stats: FolderStats, figures: dict[str, str], card_data: Any
) -> dict[str, Any]:
    configs = stats.configs
    default = next((c["config_name"] for c in card_data.configs if c.get("default")), configs[0])
    task_rows = []
    for config, splits in stats.task_types.items():
        for task in sorted({t for counter in splits.values() for t in counter}):
            counts = {split: splits.get(split, {}).get(task, 0) for split in stats.rows[config]}
            task_rows.append(
                {"config": config, "task": task, "counts": counts, "total": sum(counts.values())}
            )
    stage_table = table_cells(stage_rows(info.stages))
    last_out = next((row["out"] for row in reversed(stage_table) if row["out"] is not None), None)
    return {
        "info": info,
        "parameters": strip_secrets(info.parameters),
        "stats": stats,
        "figures": figures,
        "default_config": default,
        "load_name": info.repo_id or "path/to/this/folder",
        "split_rows": [
            {"config": c, "splits": stats.rows[c], "total": sum(stats.rows[c].values())} for c in configs
        ],
        "task_rows": table_cells(task_rows),
        "stage_rows": stage_table,
        "last_stage_out": last_out,
        "quality_table": _distribution_table(stats.quality) if stats.quality else None,
        "cluster_table": _distribution_table(stats.cluster_sizes) if stats.cluster_sizes else None,
        "column_rows": describe_columns(stats.columns),
        "license_rows": table_cells(license_table(stats.licenses)),
        "declared_licenses": info.licenses,
        "source_rows": table_cells(sorted(stats.sources.items(), key=lambda kv: (-kv[1], kv[0]))),
        "teacher_rows": table_cells(sorted(stats.teachers.items(), key=lambda kv: (-kv[1], kv[0]))),
        "sources": table_cells(info.sources),
        "templates": table_cells(info.templates),
        "lm_mixup_citation": LM_MIXUP_CITATION,
    }
