"""``HubReader``: a Hub dataset (``org/name[:split]``) read into canonical Documents like ``RawReader`` reads files."""

from __future__ import annotations

import os

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.readers.huggingface import HuggingFaceDatasetReader

from mixture_builder.readers.formats import FormatOptions
from mixture_builder.readers.provenance import UNKNOWN_LICENSE
from mixture_builder.readers.source_file import SourceFile
from mixture_builder.readers.steps import DEFAULT_MAX_CHARS, OnError, ReadingMixin


class HubReader(ReadingMixin, HuggingFaceDatasetReader):
    """Read a Hugging Face dataset (Hub id or local dataset folder) with the same formats as ``RawReader``.

    Args:
        dataset: Hub dataset id (``org/name``) or a path ``datasets.load_dataset`` accepts.
        split: the split to read.
        Other arguments as for ``RawReader``; ``source`` defaults to the dataset's name, ``license`` to the
        license in the dataset's info (else ``"unknown"``).
    """

    name = "📥 lm-mixup hub reader"
    step_id = "read"

    def __init__(
        self,
        dataset: str | os.PathLike[str],
        split: str = "train",
        format: str = "auto",
        on_error: OnError = "raise",
        limit: int = -1,
        *,
        source: str | None = None,
        license: str | None = None,
        dataset_options: dict | None = None,
        streaming: bool = False,
        text_key: str = "text",
        id_key: str = "id",
        title_key: str = "title",
        pair_side: str = "pos",
        detokenize: bool = True,
        require_output: bool = False,
        max_chars: int = DEFAULT_MAX_CHARS,
        skip: int = 0,
        default_metadata: dict | None = None,
    ):
        super().__init__(
            os.fspath(dataset),
            dataset_options={"split": split, **(dataset_options or {})},
            streaming=streaming,
            limit=limit,
            skip=skip,
            text_key=text_key,
            id_key=id_key,
            default_metadata=default_metadata,
        )
        self.split = split
        self._setup(
            format=format,
            on_error=on_error,
            source=source,
            license=license,
            max_chars=max_chars,
            encoding="utf-8",
            options=FormatOptions(
                text_key=text_key,
                id_key=id_key,
                title_key=title_key,
                pair_side=pair_side,
                detokenize=detokenize,
                require_output=require_output,
            ),
        )

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from datasets import load_dataset

        if data:
            yield from data
        dataset = load_dataset(self.dataset, **self.dataset_options, streaming=self.streaming)
        shard = self._get_dataset_shard(dataset, rank, world_size)
        if shard is None:
            return
        info_license = getattr(getattr(dataset, "info", None), "license", None)
        file = SourceFile(
            path=f"{self.dataset}[{self.split}]",
            label=self.split,
            source=self.source or self.dataset.rstrip("/").rsplit("/", 1)[-1],
            license=self.license or info_license or UNKNOWN_LICENSE,
            rows=iter(shard),
            max_chars=self.max_chars,
        )
        emitted = skipped = 0
        for document in self._documents(file):
            if skipped < self.skip:
                skipped += 1
                continue
            if self.limit != -1 and emitted >= self.limit:
                break
            self.update_doc_stats(document)
            self.stat_update("documents")
            emitted += 1
            yield document
