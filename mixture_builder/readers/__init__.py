"""Readers that bring raw sources into the pipeline as canonical datatrove Documents.

``read_records(path)`` for Python use; ``RawReader`` (format detected per file) and the family readers as
datatrove steps; ``HubReader`` for Hugging Face datasets; ``PassageSegmenter`` to cut passages into windows.
"""

from mixture_builder.readers.api import ReadResult, read_records
from mixture_builder.readers.families import (
    AlpacaReader,
    CarPairsReader,
    ConversationReader,
    Gsm8kReader,
    OasstReader,
    PassageReader,
    PromptCompletionReader,
    PromptsReader,
    SelfInstructReader,
    TextFileReader,
    WikiExtractorReader,
    WikiTextReader,
)
from mixture_builder.readers.formats import FORMAT_NAMES, FORMATS, FormatOptions, detect_format
from mixture_builder.readers.hub_reader import HubReader
from mixture_builder.readers.provenance import license_from_source_card, license_from_statement
from mixture_builder.readers.scores import load_score_table
from mixture_builder.readers.segment import PassageSegmenter, split_passage
from mixture_builder.readers.steps import RawReader

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "AlpacaReader",
    "CarPairsReader",
    "ConversationReader",
    "FormatOptions",
    "Gsm8kReader",
    "HubReader",
    "OasstReader",
    "PassageReader",
    "PassageSegmenter",
    "PromptCompletionReader",
    "PromptsReader",
    "RawReader",
    "ReadResult",
    "SelfInstructReader",
    "TextFileReader",
    "WikiExtractorReader",
    "WikiTextReader",
    "detect_format",
    "license_from_source_card",
    "license_from_statement",
    "load_score_table",
    "read_records",
    "split_passage",
]
