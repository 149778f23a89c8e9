"""OpenAI-compatible chat transports: a lean aiohttp client (default) and the ``openai`` SDK.

Why a raw client: the ``openai`` SDK costs 1.6–3 ms of CPU per request, so one process tops out at a few
hundred requests/s and slows down as connections grow; datatrove's ``InferenceRunner`` uses raw HTTP only for
``localhost`` URLs and the SDK (≈40 requests in flight) for any other host, and retries only connection errors
with fixed sleeps. The aiohttp client below costs ≈0.2 ms per request and keeps ``max_concurrency`` requests in
flight against any host; retries, ``Retry-After``, rate limits and caching live in ``client.Teacher``.

A transport sends one payload and returns a ``ChatResult`` or raises ``TransientError`` (retry) /
``PermanentError`` (record as failed).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.ratelimit import parse_retry_after
from mixture_builder.teacher.types import ChatResult, PermanentError, TransientError

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})


class Transport(Protocol):
    """Sends one chat payload (``model``, ``messages``, generation parameters)."""

    async def complete(self, payload: dict[str, Any]) -> ChatResult: ...

    async def close(self) -> None: ...


def chat_url(base_url: str) -> str:
    """``…/v1`` → ``…/v1/chat/completions`` (a full ``…/chat/completions`` URL is kept)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def result_from_body(status: int, body: bytes, retry_after: float | None = None) -> ChatResult:
    """Interpret an HTTP reply of a chat completions endpoint."""
    if status != 200:
        text = body[:300].decode("utf-8", "replace")
        if status in RETRY_STATUSES or status >= 500:
            raise TransientError(f"http_{status}", retry_after=retry_after)
        raise PermanentError(f"http_{status}: {text}")
    try:
        data = json.loads(body)
        choice = data["choices"][0]
        content = choice["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise TransientError(f"malformed_response: {type(error).__name__}") from error
    usage = data.get("usage") or {}
    return ChatResult(text=content, finish_reason=choice.get("finish_reason"),
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0))


class AiohttpTransport:
    """The lean raw-HTTP client (one ``aiohttp`` session per event loop)."""

    def __init__(self, config: TeacherConfig, base_url: str | None = None) -> None:
        import aiohttp

        self.url = chat_url(base_url or config.base_url or "")
        headers = {"Content-Type": "application/json"}
        key = config.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        connector = aiohttp.TCPConnector(limit=config.max_concurrency, limit_per_host=0, ttl_dns_cache=300,
                                         keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=config.timeout_s),
            auto_decompress=True, raise_for_status=False, skip_auto_headers=("User-Agent",))

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        import aiohttp

        try:
            async with self._session.post(self.url, data=json.dumps(payload).encode()) as response:
                body = await response.read()
                return result_from_body(response.status, body, parse_retry_after(response.headers))
        except asyncio.TimeoutError as error:
            raise TransientError("timeout") from error
        except aiohttp.ClientError as error:
            raise TransientError(f"connection_error: {type(error).__name__}") from error

    async def close(self) -> None:
        await self._session.close()


class OpenAISDKTransport:
    """The same contract through ``openai.AsyncOpenAI`` (its own retries off; ``Teacher`` retries)."""

    def __init__(self, config: TeacherConfig, base_url: str | None = None) -> None:
        import openai

        self._openai = openai
        self._client = openai.AsyncOpenAI(base_url=base_url or config.base_url, api_key=config.api_key() or "none",
                                          max_retries=0, timeout=config.timeout_s)

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        openai = self._openai
        payload = dict(payload)
        known = {"model", "messages", "temperature", "max_tokens", "top_p", "seed", "stop", "n",
                 "response_format", "presence_penalty", "frequency_penalty", "logprobs"}
        extra = {k: payload.pop(k) for k in list(payload) if k not in known}
        try:
            reply = await self._client.chat.completions.create(**payload, extra_body=extra or None)
        except openai.APITimeoutError as error:
            raise TransientError("timeout") from error
        except openai.APIConnectionError as error:
            raise TransientError(f"connection_error: {type(error).__name__}") from error
        except openai.APIStatusError as error:
            status = error.status_code
            if status in RETRY_STATUSES or status >= 500:
                raise TransientError(f"http_{status}", parse_retry_after(error.response.headers))
            raise PermanentError(f"http_{status}: {str(error)[:300]}") from error
        except (ValueError, KeyError, TypeError) as error:  # an undecodable body
            raise TransientError(f"malformed_response: {type(error).__name__}") from error
        if not reply.choices:
            raise TransientError("malformed_response: no choices")
        choice, usage = reply.choices[0], reply.usage
        return ChatResult(text=choice.message.content, finish_reason=choice.finish_reason,
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0)

    async def close(self) -> None:
        await self._client.close()


def make_http_transport(config: TeacherConfig, base_url: str | None = None) -> Transport:
    """The configured HTTP client (``config.client``)."""
    cls = OpenAISDKTransport if config.client == "openai" else AiohttpTransport
    return cls(config, base_url)
