"""``DatasetCardInfo``: what a pipeline knows about a dataset folder beyond its rows (the card's input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mixture_builder.errors import ConfigError


@dataclass
class DatasetCardInfo:
    """What the pipeline knows about a dataset folder, beyond its rows."""

    pretty_name: str = field(metadata={"help": "Human-readable dataset name (card title, YAML pretty_name)."})
    summary: str = field(default="", metadata={"help": "One paragraph on what the dataset is."})
    kind: str = field(
        default="mixture",
        metadata={"help": "'mixture' (MIXTURE training data), 'distilled', or another word."},
    )
    stages: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={
            "help": "Pipeline stages in order: {stage: {in, out, dropped: {reason: n}, added?, merged?, params?, "
            "note?}}; in + added = out + dropped + merged."
        },
    )
    parameters: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Run-wide pipeline parameters."}
    )
    teacher: str | None = field(default=None, metadata={"help": "Model that wrote the records."})
    rater: str | None = field(default=None, metadata={"help": "Model that rated quality."})
    templates: dict[str, str] = field(
        default_factory=dict, metadata={"help": "Prompt template name → version."}
    )
    sources: list[dict[str, Any]] = field(
        default_factory=list,
        metadata={"help": "Source datasets: {name, hub_id?, license?, path?, records?}."},
    )
    source_datasets: list[str] = field(
        default_factory=list,
        metadata={"help": "Hub ids for YAML source_datasets (added to those in sources)."},
    )
    language: list[str] = field(default_factory=lambda: ["en"], metadata={"help": "ISO 639 language codes."})
    task_categories: list[str] = field(
        default_factory=lambda: ["text-generation"], metadata={"help": "Hub task categories."}
    )
    tags: list[str] = field(default_factory=list, metadata={"help": "Extra Hub tags."})
    licenses: list[str] = field(
        default_factory=list, metadata={"help": "Licenses to declare besides those found in the data."}
    )
    repo_id: str | None = field(default=None, metadata={"help": "Hub repo id for the loading snippet."})
    default_config: str | None = field(default=None, metadata={"help": "Config loaded without a name."})
    citation: str | None = field(default=None, metadata={"help": "Extra BibTeX to cite besides LM-Mixup."})
    extra_markdown: str = field(
        default="", metadata={"help": "Markdown sections of the pipeline's own, placed before the citation."}
    )

    def __post_init__(self) -> None:
        if not self.pretty_name or not self.pretty_name.strip():
            raise ConfigError("pretty_name must not be empty", field="pretty_name", fix="name the dataset")
        for name, stage in self.stages.items():
            if not isinstance(stage, dict):
                raise ConfigError(
                    f"stage {name!r} must be a mapping, got {type(stage).__name__}",
                    field="stages",
                    fix='use {"in": n, "out": n, "dropped": {reason: n}}',
                )
        self.sources = [s if isinstance(s, dict) else {"name": str(s)} for s in self.sources]
