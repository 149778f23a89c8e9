"""The MIXTURE build's own datatrove steps that need no LLM: noise variants, assembly, dataset writing.

Documents between steps (JSONL under ``{output}/.lm-mixup/``):

- **target** ``Document(text=<sample in its task's pattern>, id="{passage}/{task}", metadata={"kind":
  "mixture_target", "task", "cot", "source_id", "title", "source", "license", "teacher", "quality", …})``
- **variant** ``Document(text=<low-quality sample>, id="{target}/{t|n}{i}", metadata={"kind": "mixture_variant",
  "target_id", "task", "degradations": [...], "source_id", "source", "license"})``
- **record** ``Document(text=<output>, id=<record id>, metadata={<MIXTURE_FIELDS>..., "config", "split"})``
"""

from __future__ import annotations

from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from dataset_cards.layout import write_dataset_folder
from hub.push import push_folder
from mixture_builder.clustering.embeddings import embed_texts
from mixture_builder.errors import InputError
from mixture_builder.generate.assemble import Target, Variant, build_records
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.noise import add_noise, stable_seed
from mixture_builder.generate.report import write_card, write_stats
from mixture_builder.mixture_format import MIXTURE_FIELDS

TARGET = "mixture_target"
VARIANT = "mixture_variant"
RECORD = "mixture_record"


def variant_doc(target: Document, text: str, degradations: list[str], suffix: str) -> Document:
    """A low-quality variant of ``target`` (see the module docstring)."""
    meta = target.metadata
    return Document(
        text=text,
        id=f"{target.id}/{suffix}",
        metadata={
            "kind": VARIANT,
            "target_id": target.id,
            "task": meta["task"],
            "degradations": list(degradations),
            "source_id": meta.get("source_id", ""),
            "source": meta.get("source", ""),
            "license": meta.get("license", ""),
        },
    )


class NoiseVariants(PipelineStep):
    """Add ``n_variants`` noise variants per target, made by seeded noise functions applied to the target or
    to one of its teacher variants (which precede it in the stream). Targets and variants pass through."""

    name = "🧂 Noise variants"
    step_id = "noise_variants"
    type = "🧪 - MIXTURE"

    def __init__(self, n_variants: int = 4, functions: list[str] | None = None, max_ops: int = 2, seed: int = 42):
        super().__init__()
        self.n_variants = n_variants
        self.functions = functions
        self.max_ops = max_ops
        self.seed = seed

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        teacher_variants: dict[str, list[Document]] = {}
        for doc in data:
            self.stat_update("in", "out")
            kind = doc.metadata.get("kind")
            if kind == VARIANT:
                teacher_variants.setdefault(doc.metadata["target_id"], []).append(doc)
                yield doc
                continue
            if kind != TARGET:
                yield doc
                continue
            yield doc
            with self.track_time():
                bases = [doc, *teacher_variants.pop(doc.id, [])]
                for i in range(self.n_variants):
                    seed = stable_seed(self.seed, "noise", doc.id, i)
                    base = bases[seed % len(bases)]
                    text, applied = add_noise(base.text, seed, functions=self.functions, max_ops=self.max_ops)
                    labels = list(base.metadata.get("degradations", [])) + applied
                    self.stat_update("out", "variants")
                    yield variant_doc(doc, text, labels, f"n{i}")


class AssembleMixture(PipelineStep):
    """Collect every target and variant (run with one task), embed the targets, split them, form one cluster
    of 2–20 low-quality inputs per target (cross-topic neighbours included) and yield the records."""

    name = "🧩 Assemble MIXTURE records"
    step_id = "assemble"
    type = "🧪 - MIXTURE"

    def __init__(self, config: BuildConfig):
        super().__init__()
        self.config = config

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        targets: dict[str, Target] = {}
        variants: dict[str, Variant] = {}
        for doc in data:
            meta = doc.metadata
            if meta.get("kind") == TARGET:
                self.stat_update("in_targets")
                targets[doc.id] = Target(
                    id=doc.id, task=meta["task"], text=doc.text, cot=meta.get("cot", ""),
                    quality=int(meta.get("quality") or 0), source=meta.get("source", ""),
                    source_id=meta.get("source_id", ""), license=meta.get("license", ""),
                    teacher=meta.get("teacher", ""),
                )
            elif meta.get("kind") == VARIANT:
                self.stat_update("in_variants")
                variants[doc.id] = Variant(meta["target_id"], doc.text, list(meta.get("degradations", [])))
        orphans = [v for v in variants.values() if v.target_id not in targets]
        if orphans:
            self.stat_update("dropped_orphan_variant", value=len(orphans))
        with self.track_time("dataset"):
            ordered = sorted(targets.values(), key=lambda t: t.id)
            embeddings = None
            if self.config.cross_topic and ordered:
                embeddings = embed_texts([t.text for t in ordered], self.config.embedding_model)
            tables, dropped = build_records(
                ordered, [v for v in variants.values() if v.target_id in targets], embeddings, self.config
            )
        for reason, count in dropped.items():
            self.stat_update(f"dropped_{reason}", value=count)
        for (config_name, split), rows in tables.items():
            for row in rows:
                self.stat_update("out", f"out_{config_name}_{split}", row["task_type"])
                self.stat_update("cross_topic_inputs", value=sum("cross_topic" in d for d in row["degradations"]))
                yield Document(text=row["output"], id=row["id"],
                               metadata={**row, "kind": RECORD, "config": config_name, "split": split})


class WriteMixtureDataset(PipelineStep):
    """Write the records as a dataset folder (``data_sft/``, ``data_grpo/`` Parquet shards), then
    ``stats.json`` and the card (run with one task, after every other stage)."""

    name = "💾 Write MIXTURE dataset"
    type = "🧪 - MIXTURE"

    def __init__(self, config: BuildConfig):
        super().__init__()
        self.config = config

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        tables: dict[str, dict[str, list[dict[str, Any]]]] = {
            "sft": {"train": [], "test": []}, "grpo": {"train": [], "test": []},
        }
        seen: set[str] = set()
        for doc in data:
            meta = doc.metadata
            if meta.get("kind") != RECORD:
                continue
            if doc.id in seen:  # never expected: the assembly yields each target once
                self.stat_update("dropped_duplicate_record")
                continue
            seen.add(doc.id)
            self.stat_update("in")
            tables[meta["config"]][meta["split"]].append({name: meta[name] for name in MIXTURE_FIELDS})
        for splits in tables.values():
            for rows in splits.values():
                rows.sort(key=lambda row: row["id"])
        out = self.config.output_dir
        if not seen:
            write_stats(self.config, tables)
            raise InputError("the build produced no MIXTURE records", path=str(out),
                             fix="see stats.json for where the samples were dropped (unparsable teacher replies, "
                                 "the quality threshold, too few variants)")
        with self.track_time("dataset"):
            write_dataset_folder(out, tables, self.config.shard_size_bytes, default_config="sft")
            stats = write_stats(self.config, tables)
            write_card(self.config, stats)
        self.stat_update("out", value=sum(len(rows) for splits in tables.values() for rows in splits.values()))
        return
        yield  # a generator with nothing to pass on


class PushFolder(PipelineStep):
    """Upload a finished dataset folder to a Hub dataset repo (``.lm-mixup/`` is never uploaded)."""

    name = "🚀 Push to the Hub"
    type = "🧪 - MIXTURE"

    def __init__(self, folder: str, repo_id: str, private: bool = False):
        super().__init__()
        self.folder = folder
        self.repo_id = repo_id
        self.private = private

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.track_time("push"):
            push_folder(self.folder, self.repo_id, repo_type="dataset", private=self.private,
                        message="Upload MIXTURE built with lm-mixup")
        self.stat_update("pushed")
        return
        yield


class KeepFirstSegments(PipelineStep):
    """Keep the first ``n`` segments of each document (``segment_index`` < n); count the rest."""

    name = "✂️ Keep first segments"
    step_id = "keep_segments"
    type = "🧪 - MIXTURE"

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data or ():
            self.stat_update("in")
            if int(doc.metadata.get("segment_index", 0)) >= self.n:
                self.stat_update("dropped_beyond_segment_limit")
                continue
            self.stat_update("out")
            yield doc
