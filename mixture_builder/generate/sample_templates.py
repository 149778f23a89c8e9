"""The build's prompt templates: ``write_<task>`` (parsed into the task's pattern) and ``degrade``, and the
provenance label naming the models and template versions that made a record."""

from __future__ import annotations

import dataclasses
from typing import Any

from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.samples import SampleParseError, parse_sample
from mixture_builder.teacher.templates import OutputParseError, PromptTemplate, load_template

PACKAGE = "mixture_builder.generate"

LAYOUTS: dict[str, str] = {
    "qa": "'Q: question' on one line, then 'A: answer'",
    "mcq": "'Q: question', then options 'A) …' to 'D) …', then 'Answer: letter'",
    "tfq": "the statement, then 'Answer: True' or 'Answer: False'",
    "cs": "'C: category' on one line, then 'S: statement'",
    "para": "one paragraph",
}


@dataclasses.dataclass(frozen=True)
class SampleTemplate(PromptTemplate):
    """A ``write_<task>`` template whose reply is parsed into ``{"sample", "cot"}`` in the task's pattern."""

    task: str = "qa"

    @classmethod
    def for_task(cls, task: str) -> SampleTemplate:
        base = load_template(PACKAGE, f"write_{task}")
        return cls(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, task=task)

    def parse(self, text: str | None) -> dict[str, Any]:
        if text is None or not text.strip():
            raise OutputParseError("empty reply")
        try:
            sample, cot = parse_sample(text, self.task)
        except SampleParseError as error:
            raise OutputParseError(str(error)) from error
        return {"sample": sample, "cot": cot}


def template_versions(config: BuildConfig) -> dict[str, str]:
    """Template name → version of every template the build uses (for provenance and the card)."""
    names = [f"write_{task}" for task in config.tasks] + ["write_reasoning"]
    names += ["degrade"] if config.teacher_variants else []
    versions = {name: load_template(PACKAGE, name).version for name in names}
    versions["rate_quality"] = load_template("mixture_builder.teacher", "rate_quality").version
    return versions


def teacher_label(config: BuildConfig, task: str) -> str:
    """The ``teacher`` field of a record: models and template versions that made it."""
    versions = template_versions(config)
    made = f"write_{task}@{versions[f'write_{task}']}"
    if config.teacher_variants:
        made += f", degrade@{versions['degrade']}"
    return (f"{config.teacher.model_id} ({made}); rater {config.rater_config.model_id} "
            f"(rate_quality@{versions['rate_quality']})")
