"""Candidate training sets: load a folder, file or Hub dataset and normalise its rows to prompt/completion chats.

Accepted rows: ``messages`` (the last assistant turn is the completion, the turns before it the prompt),
Alpaca-style ``instruction``/``input``/``output`` (as ``distill`` and ``select`` write them), or
``prompt``/``completion`` strings. Rows that match a held-out example (same normalised prompt or response)
are excluded and counted, so the held-out NLL never scores training data.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_mixup_train.data import looks_local
from mixture_builder.distill.select import chat_messages
from mixture_builder.errors import InputError

from .config import CandidateSpec

Chat = list[dict[str, str]]


@dataclass
class Example:
    """One training (or held-out) example as TRL's conversational prompt-completion pair."""

    prompt: Chat
    completion: Chat

    @property
    def prompt_text(self) -> str:
        return "\n".join(m["content"] for m in self.prompt if m["role"] != "system")

    @property
    def response_text(self) -> str:
        return self.completion[-1]["content"]

    def as_row(self) -> dict[str, Chat]:
        return {"prompt": self.prompt, "completion": self.completion}


@dataclass
class CandidateData:
    """A candidate's examples after normalisation and held-out exclusion, with counts and a content digest."""

    spec: CandidateSpec
    examples: list[Example]
    skipped: dict[str, int] = field(default_factory=dict)
    read: int = 0

    @property
    def digest(self) -> str:
        payload = json.dumps([e.as_row() for e in self.examples], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @property
    def local_folder(self) -> Path | None:
        path = Path(self.spec.path).expanduser()
        return path if path.is_dir() else None


def text_key(text: str) -> str:
    """Normalised text for exact matching (case and whitespace ignored)."""
    return " ".join(text.lower().split())


def to_example(row: dict[str, Any]) -> Example | None:
    """A row as an :class:`Example`; ``None`` when it has no usable prompt and response."""
    messages = row.get("messages")
    if isinstance(messages, list) and messages:
        turns = [{"role": str(m.get("role", "")), "content": str(m.get("content") or "")}
                 for m in messages if isinstance(m, dict)]
        last = max((i for i, m in enumerate(turns) if m["role"] == "assistant"), default=None)
        if last is None or not turns[last]["content"].strip() or not any(m["role"] == "user" for m in turns[:last]):
            return None
        return Example(turns[:last], [turns[last]])
    if isinstance(row.get("instruction"), str) and isinstance(row.get("output"), str):
        if not row["instruction"].strip() or not row["output"].strip():
            return None
        chat = chat_messages(row["instruction"], str(row.get("input") or ""), row["output"])
        return Example(chat[:-1], chat[-1:])
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        if not row["prompt"].strip() or not row["completion"].strip():
            return None
        return Example([{"role": "user", "content": row["prompt"]}], [{"role": "assistant", "content": row["completion"]}])
    return None


def load_rows(spec: CandidateSpec) -> Any:
    """The candidate's split as a ``datasets.Dataset`` (folder, JSON/JSONL/Parquet file, or Hub id)."""
    import datasets

    path = Path(spec.path).expanduser()
    try:
        if path.is_file():
            kind = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}.get(path.suffix)
            if kind is None:
                raise InputError("unsupported file type", path=spec.path, field=f"candidates[{spec.name}].path",
                                 fix="give a dataset folder, a .jsonl/.json/.parquet/.csv file or a Hub id")
            return datasets.load_dataset(kind, data_files={spec.split: str(path)}, split=spec.split)
        if path.is_dir():
            return datasets.load_dataset(str(path), spec.config_name, split=spec.split)
        if looks_local(spec.path):
            raise InputError("candidate not found", path=spec.path, field=f"candidates[{spec.name}].path",
                             fix="run `lm-mixup distill` / `lm-mixup select` first, or fix the path")
        return datasets.load_dataset(spec.path, spec.config_name, split=spec.split, revision=spec.revision)
    except (ValueError, FileNotFoundError, ConnectionError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"cannot load split '{spec.split}': {str(error).splitlines()[0]}", path=spec.path,
                         field=f"candidates[{spec.name}]", fix="check the path/Hub id, config_name and split") from error


def load_candidate(spec: CandidateSpec, heldout_keys: set[str] | None = None) -> CandidateData:
    """Load, normalise and de-duplicate against the held-out set; rows without prompt/response are counted."""
    dataset = load_rows(spec)
    skipped: Counter[str] = Counter()
    examples: list[Example] = []
    for row in dataset:
        example = to_example(row)
        if example is None:
            skipped["no_prompt_or_response"] += 1
        elif heldout_keys and ({text_key(example.prompt_text), text_key(example.response_text)} & heldout_keys):
            skipped["heldout_overlap"] += 1
        else:
            examples.append(example)
        if spec.max_rows is not None and len(examples) >= spec.max_rows:
            break
    if not examples:
        raise InputError(f"no usable rows (columns: {', '.join(dataset.column_names)}; skipped {dict(skipped)})",
                         path=spec.path, field=f"candidates[{spec.name}]",
                         fix="give rows with messages, instruction/output or prompt/completion")
    return CandidateData(spec, examples, dict(skipped), read=len(dataset))
