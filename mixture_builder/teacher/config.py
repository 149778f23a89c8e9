"""``TeacherConfig``: which LLM answers, how fast, how often to retry, where to cache — one dataclass for
Python, the CLI and YAML."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixture_builder.config_io import build_config, field_help, help_field, load_config
from mixture_builder.errors import ConfigError

BACKENDS = ("openai", "embedded", "vllm")
CLIENTS = ("aiohttp", "openai")
RESPONSE_FORMATS = ("auto", "none", "json_object", "json_schema")
GUIDED_MODES = ("auto", "off", "vllm", "sglang")
EMBEDDED_MODEL = "SmolLM2-135M-Instruct"


def default_cache_root() -> Path:
    """``$LM_MIXUP_CACHE``, else ``~/.cache/lm-mixup``."""
    return Path(os.environ.get("LM_MIXUP_CACHE") or Path.home() / ".cache" / "lm-mixup")


@dataclass
class TeacherConfig:
    """How the toolkit talks to its teacher LLM (see the field help texts)."""

    backend: str = help_field(
        "'openai' (any OpenAI-compatible endpoint: OpenAI, vllm serve, SGLang, llama.cpp), 'vllm' (start a "
        "vLLM server on this node through datatrove), or 'embedded' (SmolLM2-135M-Instruct on CPU, "
        "offline).",
        default="embedded",
    )
    base_url: str | None = help_field(
        "Endpoint base URL, e.g. https://api.openai.com/v1 (backend 'openai').",
        default=None,
    )
    model: str = help_field(
        "Model name sent to the endpoint; a local path or Hub id for 'vllm'; ignored by 'embedded'.",
        default=EMBEDDED_MODEL,
    )
    api_key_env: str = help_field(
        "Environment variable holding the API key (the key itself is never stored).",
        default="OPENAI_API_KEY",
    )
    client: str = help_field(
        "HTTP client: 'aiohttp' (lean raw client, fast) or 'openai' (the openai SDK).",
        default="aiohttp",
    )
    max_concurrency: int = help_field("Requests in flight at most.", default=64)
    reorder_window: int | None = help_field(
        "Documents a pipeline step keeps requested ahead of the one it emits next, so the endpoint stays busy "
        "while a slow reply holds up in-order output (None: 32 x max_concurrency, at least 256). Memory grows "
        "with it, not with the shard.",
        default=None,
    )
    requests_per_minute: float | None = help_field(
        "Client-side limit on requests per minute (None: unlimited).",
        default=None,
    )
    tokens_per_minute: float | None = help_field(
        "Client-side limit on tokens per minute, prompt estimate + max_tokens (None: off).",
        default=None,
    )
    max_retries: int = help_field("Retries per request on 429/5xx/timeouts/dropped connections.", default=5)
    backoff_base_s: float = help_field("First retry delay; doubles each retry.", default=1.0)
    backoff_max_s: float = help_field("Longest retry delay (also caps Retry-After).", default=60.0)
    timeout_s: float = help_field("Timeout of one HTTP request, in seconds.", default=120.0)
    temperature: float = help_field("Sampling temperature (0: greedy).", default=0.0)
    max_tokens: int = help_field("Most tokens generated per request.", default=512)
    response_format: str = help_field(
        "For JSON templates: 'json_object' or 'json_schema' (guided decoding on vLLM, SGLang, llama.cpp, "
        "the embedded model) sent as response_format; 'none' relies on the prompt; 'auto' = json_schema "
        "for backends 'embedded'/'vllm', none for 'openai' endpoints.",
        default="auto",
    )
    guided: str = help_field(
        "Format-guided generation of replies with a fixed layout (distillation's <think>…</think><answer>…"
        "</answer>, the build's labelled lines): 'auto' = on for backends 'embedded' (a transformers logits "
        "processor) and 'vllm' (structured_outputs.regex), off for 'openai' endpoints; 'vllm' / 'sglang' = send "
        "the regex in that server's structured-output field to an 'openai' endpoint; 'off' = raw generation "
        "(format hint, lenient parse, one repair).",
        default="auto",
    )
    reasoning_budget: int = help_field(
        "Guided generation: most tokens of reasoning (a build reply's REASONING line) before its end is forced.",
        default=128,
    )
    cache_path: str | None = help_field(
        "SQLite response cache (default: $LM_MIXUP_CACHE/teacher_cache.sqlite).",
        default=None,
    )
    use_cache: bool = help_field("Read and write the response cache.", default=True)
    failed_path: str | None = help_field(
        "Append failed requests (with reason) to this JSONL file (default: failed_requests.jsonl next to "
        "the cache).",
        default=None,
    )
    prices: dict[str, float] | None = help_field(
        "USD per million tokens: {'input': x, 'output': y}; enables cost accounting.",
        default=None,
    )
    progress: bool = help_field("Show a progress bar (rate, ETA) on terminals.", default=True)
    embedded_batch_size: int = help_field("Prompts per forward batch of the embedded model.", default=16)
    embedded_threads: int = help_field(
        "torch threads of the embedded model; 1 is fastest on a shared or busy machine (several threads "
        "spin against each other), raise it on an idle multi-core machine.",
        default=1,
    )
    embedded_dtype: str = help_field(
        "Weights of the embedded model: 'float32' or 'bfloat16' (about 2x faster at batch 16 on CPUs with "
        "AMX/AVX512-BF16; outputs differ slightly, so the model id gets a '-bf16' suffix).",
        default="float32",
    )
    seed: int = help_field("Seed of sampling (embedded) and of retry jitter.", default=0)
    vllm_kwargs: dict[str, Any] = help_field(
        "Extra datatrove InferenceConfig fields for backend 'vllm' (tp, model_kwargs, ...).",
        default_factory=dict,
    )

    def __post_init__(self) -> None:
        def bad(name: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(problem, field=name, fix=fix)

        if self.backend not in BACKENDS:
            raise bad("backend", f"unknown backend {self.backend!r}", f"use one of {', '.join(BACKENDS)}")
        if self.client not in CLIENTS:
            raise bad("client", f"unknown client {self.client!r}", f"use one of {', '.join(CLIENTS)}")
        if self.response_format not in RESPONSE_FORMATS:
            raise bad("response_format", f"unknown value {self.response_format!r}",
                      f"use one of {', '.join(RESPONSE_FORMATS)}")
        if self.guided not in GUIDED_MODES:
            raise bad("guided", f"unknown value {self.guided!r}", f"use one of {', '.join(GUIDED_MODES)}")
        if self.guided in ("vllm", "sglang") and self.backend == "embedded":
            raise bad("guided", f"'{self.guided}' names a server's request field; the embedded backend is "
                      "guided locally", "use 'auto' (guided) or 'off'")
        if self.embedded_dtype not in ("float32", "bfloat16"):
            raise bad("embedded_dtype", f"unknown dtype {self.embedded_dtype!r}", "use float32 or bfloat16")
        if self.backend == "openai" and not self.base_url:
            raise bad("base_url", "backend 'openai' needs a base_url",
                      "set it, e.g. https://api.openai.com/v1 or http://host:8000/v1")
        if self.reorder_window is not None and self.reorder_window < 1:
            raise bad("reorder_window", f"must be >= 1 or null, got {self.reorder_window}",
                      "use a positive number of documents or null (automatic)")
        for name in ("max_concurrency", "max_tokens", "embedded_batch_size", "embedded_threads",
                     "reasoning_budget"):
            if getattr(self, name) < 1:
                raise bad(name, f"must be >= 1, got {getattr(self, name)}", "use a positive integer")
        for name in ("max_retries", "backoff_base_s", "backoff_max_s", "temperature"):
            if getattr(self, name) < 0:
                raise bad(name, f"must be >= 0, got {getattr(self, name)}", "use a non-negative number")
        if self.timeout_s <= 0:
            raise bad("timeout_s", f"must be > 0, got {self.timeout_s}", "use a positive number of seconds")
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise bad(name, f"must be > 0 or null, got {value}", "use a positive number or null")
        if self.prices is not None:
            unknown = set(self.prices) - {"input", "output"}
            if unknown or not all(isinstance(v, (int, float)) for v in self.prices.values()):
                raise bad("prices", f"expected {{input: USD/Mtok, output: USD/Mtok}}, got {self.prices}",
                          "give numbers for the keys 'input' and 'output'")

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None) -> TeacherConfig:
        """Build from a mapping (e.g. the ``teacher:`` section of a YAML file); unknown keys are errors."""
        return build_config(cls, data or {}, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *, section: str | None = "teacher") -> TeacherConfig:
        """Load from a YAML file: its ``teacher:`` section when present (or ``section=None``: the whole file)."""
        return load_config(cls, path, section=section)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ------------------------------------------------------------------ derived
    @property
    def resolved_cache_path(self) -> Path:
        return Path(self.cache_path) if self.cache_path else default_cache_root() / "teacher_cache.sqlite"

    @property
    def resolved_failed_path(self) -> Path:
        return Path(self.failed_path) if self.failed_path else self.resolved_cache_path.with_name(
            "failed_requests.jsonl")

    @property
    def resolved_reorder_window(self) -> int:
        return self.reorder_window or max(256, 32 * self.max_concurrency)

    @property
    def model_id(self) -> str:
        """The model name recorded in cache keys and provenance."""
        if self.backend != "embedded":
            return self.model
        return EMBEDDED_MODEL + ("-bf16" if self.embedded_dtype == "bfloat16" else "")

    @property
    def resolved_response_format(self) -> str:
        if self.response_format != "auto":
            return self.response_format
        return "json_schema" if self.backend in ("embedded", "vllm") else "none"

    @property
    def resolved_guided(self) -> str:
        """How replies with a layout are guided: 'local' (logits processor), 'vllm', 'sglang' or 'off'."""
        if self.guided != "auto":
            return self.guided
        return {"embedded": "local", "vllm": "vllm"}.get(self.backend, "off")

    def api_key(self) -> str | None:
        """The API key from the environment (never stored on the config)."""
        return os.environ.get(self.api_key_env) or None

    @staticmethod
    def help() -> dict[str, str]:
        """Field name → help text (for CLI and docs)."""
        return field_help(TeacherConfig)
