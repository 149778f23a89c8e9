"""Record formats (one class per format family), their names, and detection from content."""

from __future__ import annotations

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.readers.formats.base import FormatOptions, RecordFormat, Skipped, Where, lookup
from mixture_builder.readers.formats.conversations import ConversationFormat, OasstFormat
from mixture_builder.readers.formats.instructions import (
    AlpacaFormat,
    CarPairsFormat,
    Gsm8kFormat,
    PromptCompletionFormat,
    PromptsFormat,
    SelfInstructFormat,
)
from mixture_builder.readers.formats.passages import (
    PassagesFormat,
    TextFormat,
    WikiExtractorFormat,
    WikiTextFormat,
)
from mixture_builder.readers.source_file import RECORD_CONTAINERS, SourceFile

#: Format names accepted by ``format=`` (aliases map onto the same class).
FORMATS: dict[str, type[RecordFormat]] = {
    "wikiextractor": WikiExtractorFormat,
    "wikitext": WikiTextFormat,
    "passages": PassagesFormat,
    "text": TextFormat,
    "alpaca": AlpacaFormat,
    "dolly": AlpacaFormat,
    "self_instruct": SelfInstructFormat,
    "gsm8k": Gsm8kFormat,
    "prompt_completion": PromptCompletionFormat,
    "prompts": PromptsFormat,
    "car_pairs": CarPairsFormat,
    "sharegpt": ConversationFormat,
    "messages": ConversationFormat,
    "lima": ConversationFormat,
    "oasst": OasstFormat,
}
FORMAT_NAMES = ("auto", *FORMATS)

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "FormatOptions",
    "RecordFormat",
    "Skipped",
    "Where",
    "detect_format",
    "get_format",
]


def get_format(name: str, options: FormatOptions | None = None) -> RecordFormat:
    """An instance of the format called ``name``."""
    if name not in FORMATS:
        raise ConfigError(
            f"unknown format {name!r}", field="format", fix=f"use one of {', '.join(FORMAT_NAMES)}"
        )
    return FORMATS[name](options)


def detect_record_format(record: dict, text_key: str = "text") -> str | None:
    """The format name whose signature the keys of ``record`` match, or ``None``."""

    def has(*keys: str) -> bool:
        return all(lookup(record, (key,)) is not None for key in keys)

    if has("message_id", "role", "text"):
        return "oasst"
    for key in ("conversations", "conversation", "messages"):
        if has(key):
            turns = record[lookup(record, (key,))]
            first = turns[0] if isinstance(turns, list) and turns else None
            return (
                "lima"
                if isinstance(first, str)
                else "sharegpt"
                if isinstance(first, dict) and "from" in first
                else "messages"
            )
    rules = (
        (("src", "pos", "neg"), "car_pairs"),
        (("prompt", "completion"), "prompt_completion"),
        (("question", "answer"), "gsm8k"),
        (("instruction", "instances"), "self_instruct"),
        (("instruction", "output"), "alpaca"),
        (("instruction", "response"), "alpaca"),
        (("question_id",), "prompts"),
        (("id", "url", "title", text_key), "wikiextractor"),
        ((text_key,), "passages"),
        (("instruction",), "prompts"),
        (("prompt",), "prompts"),
        (("question",), "prompts"),
    )
    for keys, name in rules:
        if has(*keys):
            return name
    return None


def detect_format(file: SourceFile, text_key: str = "text") -> str:
    """The format of ``file`` from its container and first record; ``InputError`` when it cannot be told."""
    container = file.container
    if container == "doc":
        return "wikiextractor"
    if container in ("wikitext", "text"):
        return container
    if container not in RECORD_CONTAINERS:
        raise file.error(
            f"cannot read a {container} file as records",
            reason="unknown_format",
            fix="pass format=… or point the reader at the data files only",
        )
    first = file.first_record()
    if first is None:
        errors = [item for item in file.records() if isinstance(item, InputError)]
        if errors:
            raise errors[0]
        raise file.error("contains no records", reason="empty_file", fix="remove the file or add records")
    where = Where(file, first.index, first.line)
    if not isinstance(first.value, dict):
        raise where.error(
            f"record is a {type(first.value).__name__}, expected a JSON object",
            reason="wrong_shape",
            fix="write one JSON object per record",
        )
    name = detect_record_format(first.value, text_key)
    if name is None:
        raise where.error(
            f"cannot detect the format from the fields {sorted(map(str, first.value))[:12]}",
            reason="unknown_format",
            fix=f"pass format=… (one of {', '.join(FORMATS)}) or text_key=…",
        )
    return name
