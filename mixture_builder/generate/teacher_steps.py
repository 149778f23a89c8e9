"""The MIXTURE build's LLM-backed datatrove steps: the teacher writes targets and degrades them.

``WriteSamples``: one passage → one high-quality sample per task, in the task's pattern, with its chain of
thought (templates ``write_qa`` … ``write_para``). ``WriteReasoning``: the chain of thought of samples written
without one (template ``write_reasoning``). ``DegradeSamples``: one target → ``teacher_variants`` low-quality
variants, cycling through the degradation styles (template ``degrade``). All are ``TeacherStep``s: streaming,
concurrency, cache, retries, repair and failure counts come from the base. On backends that control decoding
(``teacher.guided``), ``WriteSamples`` replies are format-guided into the task's labelled lines
(``sample_layout``), the REASONING line closed after ``teacher.reasoning_budget`` tokens.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from datatrove.data import Document

from mixture_builder.errors import ConfigError
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.noise import stable_seed
from mixture_builder.generate.sample_templates import LAYOUTS, PACKAGE, SampleTemplate, teacher_label
from mixture_builder.generate.samples import TASK_FIELDS, TASK_NAMES, SampleParseError, clean_variant
from mixture_builder.generate.steps import TARGET, KeepFirstSegments, variant_doc
from mixture_builder.readers.segment import PassageSegmenter
from mixture_builder.readers.steps import RawReader
from mixture_builder.teacher.layout import Layout, field_layout, guided_params
from mixture_builder.teacher.steps import TeacherStep
from mixture_builder.teacher.templates import OutputParseError, load_template
from mixture_builder.teacher.types import ChatRequest, ChatResult

_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("mcq", "CORRECT"): tuple("ABCD"), ("tfq", "ANSWER"): ("True", "False")}


def sample_layout(task: str, *, with_reasoning: bool, reasoning_budget: int) -> Layout:
    """The ``write_<task>`` reply as labelled lines (``samples.TASK_FIELDS``, options ``A)``…``D)``), the
    multiple-choice letter and the true/false answer as choices."""
    lines = []
    for tag in TASK_FIELDS[task]:
        if tag == "REASONING" and not with_reasoning:
            continue
        label = f"{tag}) " if task == "mcq" and tag in "ABCD" else f"{tag}: "
        lines.append((label, _CHOICES.get((task, tag)), reasoning_budget if tag == "REASONING" else None))
    return field_layout(f"write_{task}{'_reasoning' if with_reasoning else ''}", lines)


def source_steps(config: BuildConfig) -> list[Any]:
    """Reader and segmenter steps of every source (datatrove readers pass earlier documents through)."""

    steps: list[Any] = []
    for source in config.sources:
        path = source.resolved_path
        if not path.exists():
            raise ConfigError("source not found", path=str(path), field="sources.path",
                              fix="point sources[].path at a file or folder of passages")
        folder, glob = (str(path.parent), path.name) if path.is_file() else (str(path), source.glob_pattern)
        steps.append(RawReader(folder, format=None if source.format == "auto" else source.format,
                               glob_pattern=glob, on_error=config.on_error, limit=source.limit,
                               source=source.source, license=source.license))
    steps.append(PassageSegmenter(max_tokens=config.segment_max_tokens,
                                  min_tokens=min(config.segment_min_tokens, config.segment_max_tokens)))
    if config.segments_per_document > 0:
        steps.append(KeepFirstSegments(config.segments_per_document))
    return steps


class WriteSamples(TeacherStep):
    """Passage → one high-quality sample per task (``kind="mixture_target"``), with its chain of thought."""

    name = "✍️ Write samples"
    step_id = "write_samples"

    def __init__(self, config: BuildConfig, **kwargs: Any):
        super().__init__(config.teacher, **kwargs)
        self.build = config

    def format_input(self, doc: Document) -> list[ChatRequest]:
        title = doc.metadata.get("title") or "untitled"
        return [self.request(task, title=title, passage=doc.text,
                             with_reasoning=self.build.reasoning_inline_for(task))
                for task in self.tasks_for(doc)]

    def tasks_for(self, doc: Document) -> list[str]:
        """The tasks written for this passage: all, or ``tasks_per_passage`` of them drawn (weighted by
        ``task_weights``) with a seed derived from the passage id."""
        tasks, n = list(self.build.tasks), self.build.tasks_per_passage
        if not n or n >= len(tasks):
            return tasks
        rng = random.Random(stable_seed(self.build.seed, "tasks", doc.id))
        weights = [float((self.build.task_weights or {}).get(task, 1.0)) for task in tasks]
        chosen: list[str] = []
        while len(chosen) < n:  # weighted sampling without replacement
            i = rng.choices(range(len(tasks)), weights=weights)[0]
            chosen.append(tasks.pop(i))
            weights.pop(i)
        return [task for task in self.build.tasks if task in chosen]

    def request(self, task: str, **variables: Any) -> ChatRequest:
        template = SampleTemplate.for_task(task)
        teacher = self.build.teacher
        params = guided_params(teacher, sample_layout(task, with_reasoning=variables["with_reasoning"],
                                                      reasoning_budget=teacher.reasoning_budget))
        if self.build.repair_replies:
            return template.request(params=params, **variables)
        return ChatRequest(messages=template.render(**variables), params=params, tag=template.id)

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        meta = doc.metadata
        for task, result in zip(self.tasks_for(doc), results):
            self.stat_update("in")
            parsed = result.parsed
            if parsed is None and result.error is None and not self.build.repair_replies:
                try:
                    parsed = SampleTemplate.for_task(task).parse(result.text)
                except OutputParseError:
                    parsed = None
            if result.error is not None or parsed is None:
                self.stat_update("dropped_request_failed" if result.error else "dropped_unparsable_reply")
                continue
            self.stat_update("out", f"out_{task}")
            yield Document(
                text=parsed["sample"],
                id=f"{doc.id}/{task}",
                metadata={
                    "kind": TARGET,
                    "task": task,
                    "cot": parsed["cot"],
                    "source_id": doc.id,
                    "title": meta.get("title", ""),
                    "source": meta.get("source", ""),
                    "license": meta.get("license", ""),
                    "teacher": teacher_label(self.build, task),
                    "passage": doc.text,
                },
            )


class WriteReasoning(TeacherStep):
    """Ask for the chain of thought of targets whose writer left it out (template ``write_reasoning``);
    targets that have one pass through without a request."""

    name = "🧠 Write missing reasoning"
    step_id = "write_reasoning"

    def __init__(self, config: BuildConfig, **kwargs: Any):
        super().__init__(config.teacher, **kwargs)
        self.build = config

    def format_input(self, doc: Document) -> ChatRequest | None:
        meta = doc.metadata
        if meta.get("kind") != TARGET or meta.get("cot"):
            return None
        return load_template(PACKAGE, "write_reasoning").request(
            params={"max_tokens": 96}, title=meta.get("title") or "untitled", passage=meta.get("passage", ""),
            task_name=TASK_NAMES[meta["task"]], sample=doc.text,
        )

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        if not results:
            return [doc]
        self.stat_update("in")
        result = results[0]
        if result.error is not None or not (result.text or "").strip():
            return self.drop(doc, "no_reasoning")
        doc.metadata["cot"] = " ".join(result.text.split())
        self.stat_update("out")
        return [doc]


class DegradeSamples(TeacherStep):
    """Target → ``teacher_variants`` low-quality variants (``kind="mixture_variant"``, degradations
    ``["teacher:<style>"]``), then the target itself; other documents pass through."""

    name = "🥀 Teacher variants"
    step_id = "teacher_variants"

    def __init__(self, config: BuildConfig, **kwargs: Any):
        super().__init__(config.teacher, **kwargs)
        self.build = config

    def styles_for(self, doc: Document) -> list[str]:
        styles = self.build.degradation_styles
        offset = stable_seed(self.build.seed, "styles", doc.id) % len(styles)
        return [styles[(offset + i) % len(styles)] for i in range(self.build.teacher_variants)]

    def format_input(self, doc: Document) -> list[ChatRequest] | None:
        if doc.metadata.get("kind") != TARGET:
            return None
        template = load_template(PACKAGE, "degrade")
        task = doc.metadata["task"]
        return [
            template.request(task_name=TASK_NAMES[task], sample=doc.text, style=style, layout=LAYOUTS[task])
            for style in self.styles_for(doc)
        ]

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        for i, (style, result) in enumerate(zip(self.styles_for(doc), results)):
            self.stat_update("in")
            if result.error is not None or result.text is None:
                self.stat_update("dropped_request_failed")
                continue
            try:
                text = clean_variant(result.text, doc.text)
            except SampleParseError:
                self.stat_update("dropped_unusable_variant")
                continue
            self.stat_update("out")
            yield variant_doc(doc, text, [f"teacher:{style}"], f"t{i}")
        yield doc
