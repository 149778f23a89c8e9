"""Dry run: how many calls, tokens and dollars a set of requests (or documents through a step) would cost,
before anything is sent. Cached requests are counted apart; repairs of parse failures are not included."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from mixture_builder.teacher.accounting import cost_usd
from mixture_builder.teacher.client import Teacher, estimate_tokens
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.types import ChatRequest


@dataclass
class Estimate:
    """The expected size of a run. ``completion_tokens`` is an upper bound (``max_tokens`` per call) unless an
    expected length was given; ``cost_usd`` is ``None`` without configured prices."""

    requests: int
    calls: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ASSUMED_TOKENS_PER_S = 40.0
"""Generation speed assumed per request when estimating wall time (a hosted model's typical stream rate)."""


def duration_s(est: Estimate, cfg: TeacherConfig, *, tokens_per_s: float = ASSUMED_TOKENS_PER_S) -> float:
    """Seconds the estimated calls take at ``cfg``'s limits: the slowest of the concurrency bound (each call
    takes ~1 s plus its completion at ``tokens_per_s``, ``max_concurrency`` at once), ``requests_per_minute``
    and ``tokens_per_minute``. A lower bound for embedded models on CPU, which run one request at a time."""
    if not est.calls:
        return 0.0
    per_call = 1.0 + est.completion_tokens / est.calls / tokens_per_s
    concurrency = 1 if cfg.backend == "embedded" else max(1, cfg.max_concurrency)
    bounds = [est.calls * per_call / concurrency]
    if cfg.requests_per_minute:
        bounds.append(est.calls / cfg.requests_per_minute * 60)
    if cfg.tokens_per_minute:
        bounds.append((est.prompt_tokens + est.completion_tokens) / cfg.tokens_per_minute * 60)
    return round(max(bounds), 1)


def estimate(requests_or_docs: Iterable[Any], cfg: TeacherConfig, *, step: Any = None,
             completion_tokens: int | None = None) -> Estimate:
    """Estimate a run: ``requests_or_docs`` are ``ChatRequest``s, or documents turned into requests by
    ``step.format_input`` (a ``TeacherStep``). Identical requests count once; cached ones cost nothing."""
    teacher = Teacher(cfg)
    try:
        seen: set[str] = set()
        total = calls = cached = prompt = completion = 0
        pending: list[tuple[str, ChatRequest]] = []
        for item in requests_or_docs:
            made = step.format_input(item) if step is not None else item
            made = [] if made is None else [made] if isinstance(made, ChatRequest) else list(made)
            for request in made:
                total += 1
                key = teacher.key(request)
                if key not in seen:
                    seen.add(key)
                    pending.append((key, request))
        hits = teacher.cache.get_many([k for k, _ in pending]) if teacher.cache is not None else {}
        for key, request in pending:
            if key in hits:
                cached += 1
                continue
            calls += 1
            prompt += estimate_tokens(request.messages)
            completion += (completion_tokens if completion_tokens is not None
                           else int(teacher.payload(request).get("max_tokens") or cfg.max_tokens))
        price = cost_usd(cfg.prices, prompt, completion) if cfg.prices else None
        return Estimate(requests=total, calls=calls, cached=cached, prompt_tokens=prompt,
                        completion_tokens=completion, cost_usd=price)
    finally:
        teacher.close()
