"""The family readers: ``RawReader`` with the format fixed, one class per format family."""

from __future__ import annotations

from mixture_builder.readers.steps import RawReader


class WikiExtractorReader(RawReader):
    """WikiExtractor `<doc>` text files or `--json` records → passages."""

    name = "📥 wikiextractor reader"
    default_format = "wikiextractor"


class WikiTextReader(RawReader):
    """WikiText raw files (` = Title = ` articles) → passages."""

    name = "📥 wikitext reader"
    default_format = "wikitext"


class PassageReader(RawReader):
    """JSON/JSONL/CSV/Parquet with a text column → passages."""

    name = "📥 passages reader"
    default_format = "passages"


class TextFileReader(RawReader):
    """Plain text files, one passage per file."""

    name = "📥 text reader"
    default_format = "text"


class AlpacaReader(RawReader):
    """Alpaca / Dolly / GPTeacher instruction records."""

    name = "📥 alpaca reader"
    default_format = "alpaca"


class SelfInstructReader(RawReader):
    """Self-Instruct tasks, one record per instance."""

    name = "📥 self_instruct reader"
    default_format = "self_instruct"


class Gsm8kReader(RawReader):
    """GSM8K question / answer records."""

    name = "📥 gsm8k reader"
    default_format = "gsm8k"


class PromptCompletionReader(RawReader):
    """prompt / completion records."""

    name = "📥 prompt_completion reader"
    default_format = "prompt_completion"


class PromptsReader(RawReader):
    """Prompt-only evaluation sets (no reference answer)."""

    name = "📥 prompts reader"
    default_format = "prompts"


class CarPairsReader(RawReader):
    """CaR expert-revision CSV pairs."""

    name = "📥 car_pairs reader"
    default_format = "car_pairs"


class ConversationReader(RawReader):
    """ShareGPT / messages / LIMA conversations."""

    name = "📥 messages reader"
    default_format = "messages"


class OasstReader(RawReader):
    """OASST1 message trees → prompt/reply pairs with human labels."""

    name = "📥 oasst reader"
    default_format = "oasst"
