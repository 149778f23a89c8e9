"""Shared request context of the local Hub: state, auth, request counters and scripted faults."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hub.server.repos import HubError, HubState

URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass
class FaultRule:
    """Answer ``status`` to requests of ``kind`` (e.g. ``lfs_upload``, ``commit``, ``preupload``, ``batch``,
    ``resolve``): let the first ``skip`` through, then fail the next ``times`` (``times=-1``: all).
    With ``status=0`` the matching requests are not failed but held for ``delay`` seconds."""

    kind: str
    status: int
    skip: int = 0
    times: int = 1
    delay: float = 0.0
    seen: int = 0

    def fires(self) -> bool:
        self.seen += 1
        if self.seen <= self.skip:
            return False
        return self.times < 0 or self.seen <= self.skip + self.times


@dataclass
class HubContext:
    """What every handler needs: repo state, the accepted token, counters and faults."""

    state: HubState
    token: str | None = None  # when set, writes and private reads need exactly this bearer token
    counts: Counter = field(default_factory=Counter)
    uploaded_oids: list[str] = field(default_factory=list)
    faults: list[FaultRule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_fault(self, kind: str, status: int, *, skip: int = 0, times: int = 1, delay: float = 0.0) -> FaultRule:
        """Script a failure or a delay (see :class:`FaultRule`); returns the rule so tests can inspect it."""
        rule = FaultRule(kind, status, skip, times, delay)
        with self.lock:
            self.faults.append(rule)
        return rule

    async def hit(self, kind: str) -> None:
        """Count a request of ``kind``; apply the scripted delay and raise the scripted fault, if one fires."""
        with self.lock:
            self.counts[kind] += 1
            fired = [rule for rule in self.faults if rule.kind == kind and rule.fires()]
        for rule in fired:
            if rule.delay:
                await asyncio.sleep(rule.delay)
            if rule.status:
                raise HubError(rule.status, f"scripted fault on {kind}")

    def bearer(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def require_write(self, request: web.Request) -> None:
        token = self.bearer(request)
        if token is None:
            raise HubError(401, "Authentication required: pass a token (HF_TOKEN or hf auth login)")
        if self.token is not None and token != self.token:
            raise HubError(401, "Invalid credentials in Authorization header")

    def check_read(self, request: web.Request, repo_type: str, repo_id: str) -> None:
        settings = self.state.require_repo(repo_type, repo_id)
        if settings.get("private"):
            token = self.bearer(request)
            if token is None or (self.token is not None and token != self.token):
                raise HubError(404, f"Repository {repo_type}s/{repo_id} not found", "RepoNotFound")


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def repo_url(request: web.Request, repo_type: str, repo_id: str) -> str:
    return f"{base_url(request)}/{URL_PREFIXES[repo_type]}{repo_id}"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


async def read_json(request: web.Request) -> dict:
    raw = await request.read()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as error:
        raise HubError(400, f"Invalid JSON body: {error}") from None
    if not isinstance(data, dict):
        raise HubError(400, "Expected a JSON object")
    return data
