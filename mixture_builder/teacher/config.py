"""``TeacherConfig``: which LLM answers, how fast, how often to retry, where to cache — one dataclass for
Python, the CLI and YAML."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mixture_builder.config_io import field_help, from_mapping, read_yaml_mapping
from mixture_builder.errors import ConfigError

BACKENDS = ("openai", "embedded", "vllm")
CLIENTS = ("aiohttp", "openai")
RESPONSE_FORMATS = ("auto", "none", "json_object", "json_schema")
EMBEDDED_MODEL = "SmolLM2-135M-Instruct"


def default_cache_root() -> Path:
    """``$LM_MIXUP_CACHE``, else ``~/.cache/lm-mixup``."""
    return Path(os.environ.get("LM_MIXUP_CACHE") or Path.home() / ".cache" / "lm-mixup")


@dataclass
class TeacherConfig:
    """How the toolkit talks to its teacher LLM (see the field help texts)."""

    backend: str = field(
        default="embedded",
        metadata={"help": "'openai' (any OpenAI-compatible endpoint: OpenAI, vllm serve, SGLang, llama.cpp), "
                  "'vllm' (start a vLLM server on this node through datatrove), or 'embedded' "
                  "(SmolLM2-135M-Instruct on CPU, offline)."},
    )
    base_url: str | None = field(
        default=None, metadata={"help": "Endpoint base URL, e.g. https://api.openai.com/v1 (backend 'openai')."}
    )
    model: str = field(
        default=EMBEDDED_MODEL,
        metadata={"help": "Model name sent to the endpoint; a local path or Hub id for 'vllm'; ignored by "
                  "'embedded'."},
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY",
        metadata={"help": "Environment variable holding the API key (the key itself is never stored)."},
    )
    client: str = field(
        default="aiohttp",
        metadata={"help": "HTTP client: 'aiohttp' (lean raw client, fast) or 'openai' (the openai SDK)."},
    )
    max_concurrency: int = field(default=64, metadata={"help": "Requests in flight at most."})
    requests_per_minute: float | None = field(
        default=None, metadata={"help": "Client-side limit on requests per minute (None: unlimited)."}
    )
    tokens_per_minute: float | None = field(
        default=None,
        metadata={"help": "Client-side limit on tokens per minute, prompt estimate + max_tokens (None: off)."},
    )
    max_retries: int = field(
        default=5, metadata={"help": "Retries per request on 429/5xx/timeouts/dropped connections."}
    )
    backoff_base_s: float = field(default=1.0, metadata={"help": "First retry delay; doubles each retry."})
    backoff_max_s: float = field(default=60.0, metadata={"help": "Longest retry delay (also caps Retry-After)."})
    timeout_s: float = field(default=120.0, metadata={"help": "Timeout of one HTTP request, in seconds."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0: greedy)."})
    max_tokens: int = field(default=512, metadata={"help": "Most tokens generated per request."})
    response_format: str = field(
        default="auto",
        metadata={"help": "For JSON templates: 'json_object' or 'json_schema' (guided decoding on vLLM, SGLang, "
                  "llama.cpp, the embedded model) sent as response_format; 'none' relies on the prompt; "
                  "'auto' = json_schema for backends 'embedded'/'vllm', none for 'openai' endpoints."},
    )
    cache_path: str | None = field(
        default=None,
        metadata={"help": "SQLite response cache (default: $LM_MIXUP_CACHE/teacher_cache.sqlite)."},
    )
    use_cache: bool = field(default=True, metadata={"help": "Read and write the response cache."})
    failed_path: str | None = field(
        default=None,
        metadata={"help": "Append failed requests (with reason) to this JSONL file (default: "
                  "failed_requests.jsonl next to the cache)."},
    )
    prices: dict[str, float] | None = field(
        default=None,
        metadata={"help": "USD per million tokens: {'input': x, 'output': y}; enables cost accounting."},
    )
    progress: bool = field(default=True, metadata={"help": "Show a progress bar (rate, ETA) on terminals."})
    embedded_batch_size: int = field(
        default=16, metadata={"help": "Prompts per forward batch of the embedded model."}
    )
    embedded_threads: int = field(
        default=1,
        metadata={"help": "torch threads of the embedded model; 1 is fastest on a shared or busy machine "
                  "(several threads spin against each other), raise it on an idle multi-core machine."},
    )
    embedded_dtype: str = field(
        default="float32",
        metadata={"help": "Weights of the embedded model: 'float32' or 'bfloat16' (about 2x faster at batch 16 on "
                  "CPUs with AMX/AVX512-BF16; outputs differ slightly, so the model id gets a '-bf16' suffix)."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of sampling (embedded) and of retry jitter."})
    vllm_kwargs: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Extra datatrove InferenceConfig fields for backend 'vllm' (tp, model_kwargs, ...)."},
    )

    def __post_init__(self) -> None:
        def bad(name: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(problem, field=f"teacher.{name}", fix=fix)

        if self.backend not in BACKENDS:
            raise bad("backend", f"unknown backend {self.backend!r}", f"use one of {', '.join(BACKENDS)}")
        if self.client not in CLIENTS:
            raise bad("client", f"unknown client {self.client!r}", f"use one of {', '.join(CLIENTS)}")
        if self.response_format not in RESPONSE_FORMATS:
            raise bad("response_format", f"unknown value {self.response_format!r}",
                      f"use one of {', '.join(RESPONSE_FORMATS)}")
        if self.embedded_dtype not in ("float32", "bfloat16"):
            raise bad("embedded_dtype", f"unknown dtype {self.embedded_dtype!r}", "use float32 or bfloat16")
        if self.backend == "openai" and not self.base_url:
            raise bad("base_url", "backend 'openai' needs a base_url",
                      "set it, e.g. https://api.openai.com/v1 or http://host:8000/v1")
        for name in ("max_concurrency", "max_tokens", "embedded_batch_size", "embedded_threads"):
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
        return from_mapping(cls, data or {}, source=source, what="teacher")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *, section: str | None = "teacher") -> TeacherConfig:
        """Load from a YAML file: its ``teacher:`` section when present (or ``section=None``: the whole file)."""
        return cls.from_dict(read_yaml_mapping(path, section=section), source=str(path))

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

    def api_key(self) -> str | None:
        """The API key from the environment (never stored on the config)."""
        return os.environ.get(self.api_key_env) or None

    @staticmethod
    def help() -> dict[str, str]:
        """Field name → help text (for CLI and docs)."""
        return field_help(TeacherConfig)
