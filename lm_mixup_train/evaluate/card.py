"""The evaluation's results in the checkpoint's model card: model-index ``eval_results`` (huggingface_hub's
``EvalResult``, so ``ModelCard.load(...).data.eval_results`` reads them back) and the results table in the
card's text. A local checkpoint's README.md is rewritten; a Hub checkpoint's card is pushed back to its repo."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .report import COLUMNS, HEADLINE, EvalReport

TASK_NAME = "Instruction distillation on MIXTURE (lm-mixup evaluate distiller)"
_START, _END = "<!-- lm-mixup-eval:start -->", "<!-- lm-mixup-eval:end -->"
_SECTION = re.compile(re.escape(_START) + r".*?" + re.escape(_END), re.DOTALL)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def eval_results(report: EvalReport) -> list[Any]:
    """The distiller's overall figures as ``EvalResult``\\ s (one per metric)."""
    from huggingface_hub import EvalResult

    meta = report.meta
    overall = report.systems[meta["distiller_name"]]["overall"]
    labels = dict(COLUMNS)
    dataset = meta["dataset"]
    return [
        EvalResult(task_type="text-generation", task_name=TASK_NAME,
                   dataset_type=dataset if _REPO_ID.match(dataset) else "mixture",
                   dataset_name=f"MIXTURE ({Path(dataset).name if not _REPO_ID.match(dataset) else dataset})",
                   dataset_config=meta["dataset_config"], dataset_split=meta["split"],
                   dataset_revision=meta.get("revision"), metric_type=key, metric_value=overall[key],
                   metric_name=labels[key])
        for key in (*HEADLINE, "format_structure", "format_pattern", "quality_score") if overall[key] is not None
    ]


def _same_slot(a: Any, b: Any) -> bool:
    return (a.task_name, a.dataset_type, a.dataset_config, a.dataset_split, a.metric_type) == (
        b.task_name, b.dataset_type, b.dataset_config, b.dataset_split, b.metric_type)


def update_card(card: Any, report: EvalReport, model_name: str) -> Any:
    """``card`` with the report's results (replacing earlier results of the same dataset, split and metric)
    and the results table between the evaluation markers."""
    new = eval_results(report)
    kept = [old for old in card.data.eval_results or [] if not any(_same_slot(old, n) for n in new)]
    card.data.model_name = card.data.model_name or model_name
    card.data.eval_results = kept + new
    section = (f"{_START}\n## Evaluation on MIXTURE\n\n{report.title()}, scored with the LM-Mixup rewards "
               f"(`lm-mixup evaluate distiller`) beside two trivial baselines:\n\n{report.to_markdown()}{_END}")
    text = card.text
    card.text = _SECTION.sub(lambda _: section, text) if _SECTION.search(text) else text.rstrip() + "\n\n" + section + "\n"
    return card


def add_card_results(checkpoint: str, report: EvalReport) -> str:
    """Add the results to ``checkpoint``'s card (a local folder's README.md, or a Hub repo's); returns where."""
    from huggingface_hub import HfApi, ModelCard, ModelCardData

    folder = Path(checkpoint).expanduser()
    if folder.is_dir():
        path = folder / "README.md"
        if path.is_file():
            card = ModelCard.load(path)
        else:
            card = ModelCard(f"---\n{ModelCardData(model_name=folder.name).to_yaml()}\n---\n\n# {folder.name}\n")
        update_card(card, report, folder.name).save(path)
        return str(path)
    card = update_card(ModelCard.load(checkpoint, repo_type="model"), report, checkpoint.rsplit("/", 1)[-1])
    HfApi().upload_file(path_or_fileobj=str(card).encode("utf-8"), path_in_repo="README.md", repo_id=checkpoint,
                        repo_type="model", commit_message="Add lm-mixup evaluation results")
    return checkpoint
