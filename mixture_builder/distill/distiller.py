"""The distiller steps: each cluster document gets the model's completion (``metadata["completion"]``).

Backends: the teacher layer (OpenAI-compatible endpoint, vLLM server, embedded CPU model — with its cache,
retries and rate limits) or a checkpoint (``checkpoint.CheckpointGenerator``: transformers or vLLM). Unless
``distiller.guided`` is off, backends that control decoding write the completion under the LM-Mixup layout
(``distill_layout``); the provenance names the guidance used (``distiller_id``). Parsing
and rejects are the next step's job (``steps.ParseDistillation``), so a failed request is passed on with
``completion=None`` and its error, never dropped here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

from mixture_builder.distill.checkpoint import CheckpointGenerator
from mixture_builder.distill.config import DistillerConfig
from mixture_builder.mixture_format import MIXTURE_INSTRUCTION, SYSTEM_PROMPT
from mixture_builder.teacher.layout import Layout, guided_params, think_answer_layout
from mixture_builder.teacher.steps import TeacherStep
from mixture_builder.teacher.templates import load_template
from mixture_builder.teacher.types import ChatRequest, ChatResult

TEMPLATE = "mixture_builder.distill:distill"
FORMAT_HINT = (
    "Reply in exactly this form and nothing else: <think>your reasoning</think><answer>Q: the merged "
    "instruction\n A: the merged response</answer>"
)
"""Appended for general teachers; a trained LM-Mixup checkpoint gets exactly the training prompt."""


def distill_template():
    """The packaged ``distill`` prompt template."""

    return load_template(TEMPLATE)


def distill_messages(cluster_text: str, *, hint: bool) -> list[dict[str, str]]:
    """Chat messages for one linearised cluster (``mixture_format.prompt_messages`` when ``hint`` is off)."""
    return distill_template().render(system_prompt=SYSTEM_PROMPT, instruction=MIXTURE_INSTRUCTION,
                                     cluster=cluster_text, hint=FORMAT_HINT if hint else "")


def distill_layout(config: DistillerConfig) -> Layout | None:
    """The completion's layout under guidance (a QA item in the answer), ``None`` when guidance is off."""
    return None if config.guidance == "off" else think_answer_layout("qa", think_budget=config.think_budget)


def distiller_id(config: DistillerConfig) -> str:
    """Provenance of distilled rows: the model, the template version and the guidance (``guided:<how>`` or
    ``raw``)."""
    guidance = "raw" if config.guidance == "off" else f"guided:{config.guidance}"
    return f"{config.model_id} ({distill_template().id}; {guidance})"


COMPLETION_KEYS = frozenset({"completion", "finish_reason", "request_error", "teacher"})
"""Metadata a distiller step writes on each cluster document."""


def _annotate(doc, result, provenance: str) -> None:
    doc.metadata.update(completion=result.text, finish_reason=result.finish_reason, request_error=result.error,
                        teacher=provenance)


class TeacherDistiller(TeacherStep):
    """Distil each cluster with the teacher layer (endpoint, vLLM server or embedded model)."""

    name = "⚗️ Distill clusters (teacher)"
    writes = COMPLETION_KEYS

    def __init__(self, config: DistillerConfig, *, use_cache: bool = True) -> None:
        teacher = replace(config.teacher, use_cache=config.teacher.use_cache and use_cache)
        super().__init__(teacher)
        self.config = config
        self.provenance = distiller_id(config)
        layout = distill_layout(config)
        self.params = {"max_tokens": config.max_new_tokens, **(guided_params(teacher, layout) if layout else {})}

    def format_input(self, doc: Document) -> ChatRequest:
        return ChatRequest(messages=distill_messages(doc.text, hint=True), params=dict(self.params),
                           tag=distill_template().id)

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        _annotate(doc, results[0], self.provenance)
        return [doc]


class CheckpointDistiller(PipelineStep):
    """Distil each cluster with a checkpoint (``checkpoint.CheckpointGenerator``), in batches; counts
    ``requests``, ``failed``, ``cache_hits``, ``prompt_tokens`` and ``completion_tokens``."""

    name = "⚗️ Distill clusters (checkpoint)"
    writes = COMPLETION_KEYS
    type = "🤖 - INFERENCE"

    def __init__(self, config: DistillerConfig, *, use_cache: bool = True, batch_size: int = 64) -> None:
        super().__init__()
        self.config = config
        self.use_cache = use_cache
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        config = self.config
        provenance = distiller_id(config)
        generator = CheckpointGenerator(
            config.checkpoint, engine=config.engine, max_new_tokens=config.max_new_tokens,
            temperature=config.temperature, batch_size=config.batch_size,
            cache_path=config.teacher.resolved_cache_path if self.use_cache else None, layout=distill_layout(config))
        try:
            for batch in batched(data, self.batch_size):
                with self.track_time("batch"):
                    results = generator.generate([distill_messages(doc.text, hint=False) for doc in batch])
                for doc, result in zip(batch, results):
                    self.stat_update("requests")
                    if result.cached:
                        self.stat_update("cache_hits")
                    if result.error or result.text is None:
                        self.stat_update("failed")
                    self.stat_update("prompt_tokens", value=result.prompt_tokens)
                    self.stat_update("completion_tokens", value=result.completion_tokens)
                    _annotate(doc, result, provenance)
                    yield doc
        finally:
            generator.close()


def distiller_step(config: DistillerConfig, *, use_cache: bool = True) -> PipelineStep:
    """The distiller step for ``config``: a checkpoint when one is set, else the teacher."""
    if config.checkpoint:
        return CheckpointDistiller(config, use_cache=use_cache)
    return TeacherDistiller(config, use_cache=use_cache)
