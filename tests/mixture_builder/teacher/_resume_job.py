"""A datatrove job for the resume test: 60 documents → an echo TeacherStep → JSONL (run as a subprocess)."""

from __future__ import annotations

import sys

from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.steps import TeacherStep
from mixture_builder.teacher.types import ChatRequest

N_DOCS = 60


class EchoWriter(TeacherStep):
    """Asks the teacher to answer each document's text; stores the reply."""

    name = "echo writer"

    def format_input(self, doc: Document) -> ChatRequest:
        return ChatRequest(messages=[{"role": "user", "content": doc.text}], tag="echo")

    def format_output(self, doc: Document, results):
        if results[0].error:
            return self.drop(doc, "teacher_error")
        doc.metadata["reply"] = results[0].text
        return [doc]


def main(base_url: str, work: str) -> None:
    config = TeacherConfig(backend="openai", base_url=base_url, model="fake-model", max_concurrency=4,
                           cache_path=f"{work}/cache.sqlite", failed_path=f"{work}/failed.jsonl", progress=False)
    docs = [Document(text=f"prompt {i}", id=f"doc-{i}") for i in range(N_DOCS)]
    LocalPipelineExecutor(
        pipeline=[docs, EchoWriter(config), JsonlWriter(f"{work}/out", compression=None)],
        tasks=1, logging_dir=f"{work}/logs",
    ).run()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
