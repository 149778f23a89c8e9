"""The local Hub's aiohttp application: routing over raw paths, error mapping, and a thread/CLI runner."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web
from typing_extensions import Self

from hub.server import api, lfs, resolve
from hub.server.context import HubContext, json_response
from hub.server.repos import HubError, HubState

logger = logging.getLogger(__name__)

_T = r"(?P<repo_type>model|dataset|space)s"
_ID = r"(?P<repo_id>[^/]+/[^/]+)"
_REV = r"(?P<revision>[^/]+)"
_PREFIX = r"(?P<prefix>datasets/|spaces/)?"
_PREFIX_TYPES = {None: "model", "datasets/": "dataset", "spaces/": "space"}

Handler = Callable[..., Awaitable[web.StreamResponse]]
ROUTES: list[tuple[frozenset[str], re.Pattern[str], Handler]] = [
    (frozenset({"POST"}), re.compile(r"^/api/repos/create$"), api.create_repo),
    (frozenset({"DELETE"}), re.compile(r"^/api/repos/delete$"), api.delete_repo),
    (frozenset({"GET"}), re.compile(r"^/api/whoami-v2$"), api.whoami),
    (frozenset({"POST"}), re.compile(r"^/api/validate-yaml$"), api.validate_yaml),
    (frozenset({"GET"}), re.compile(rf"^/api/{_T}/{_ID}(?:/revision/{_REV})?$"), api.repo_info),
    (frozenset({"POST"}), re.compile(rf"^/api/{_T}/{_ID}/preupload/{_REV}$"), api.preupload),
    (frozenset({"POST"}), re.compile(rf"^/api/{_T}/{_ID}/commit/{_REV}$"), api.commit),
    (frozenset({"GET"}), re.compile(rf"^/api/{_T}/{_ID}/tree/{_REV}(?:/(?P<path>.*))?$"), api.tree),
    (frozenset({"POST"}), re.compile(rf"^/api/{_T}/{_ID}/paths-info/{_REV}$"), api.paths_info),
    (frozenset({"GET"}), re.compile(rf"^/api/{_T}/{_ID}/refs$"), api.refs),
    (frozenset({"GET"}), re.compile(rf"^/api/{_T}/{_ID}/commits/{_REV}$"), api.commits),
    (frozenset({"POST", "DELETE"}), re.compile(rf"^/api/{_T}/{_ID}/branch/(?P<name>[^/]+)$"), api.branch),
    (frozenset({"PUT"}), re.compile(rf"^/api/{_T}/{_ID}/settings$"), api.update_settings),
    (frozenset({"POST"}), re.compile(rf"^/{_PREFIX}{_ID}\.git/info/lfs/objects/batch$"), lfs.batch),
    (frozenset({"PUT"}), re.compile(r"^/lfs-objects/(?P<oid>[0-9a-f]{64})/(?P<size>\d+)$"), lfs.upload),
    (frozenset({"POST"}), re.compile(r"^/lfs-verify$"), lfs.verify),
    (frozenset({"GET", "HEAD"}), re.compile(rf"^/{_PREFIX}{_ID}/resolve/{_REV}/(?P<path>.+)$"), resolve.resolve),
]


def _error_response(status: int, message: str, code: str | None = None) -> web.Response:
    headers = {"X-Error-Message": message.encode("ascii", "replace").decode()[:500]}
    if code:
        headers["X-Error-Code"] = code
    return json_response({"error": message}, status=status, headers=headers)


def build_app(ctx: HubContext) -> web.Application:
    """The aiohttp application serving ``ctx``; every request goes through one raw-path dispatcher."""

    async def dispatch(request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        for methods, pattern, handler in ROUTES:
            match = pattern.match(raw_path)
            if match is None:
                continue
            if request.method not in methods:
                return _error_response(405, f"Method {request.method} not allowed on {raw_path}")
            params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None and k != "prefix"}
            if "prefix" in match.groupdict():
                params["repo_type"] = _PREFIX_TYPES[match.group("prefix")]
            try:
                return await handler(ctx, request, **params)
            except HubError as error:
                return _error_response(error.status, error.message, error.code)
            except Exception as error:  # a server bug: answer 500 with the reason and keep serving
                logger.exception("local Hub failed on %s %s", request.method, raw_path)
                return _error_response(500, f"Internal error: {type(error).__name__}: {error}")
        return _error_response(404, f"No route for {request.method} {raw_path}")

    app = web.Application(client_max_size=2**31)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


class HubServer:
    """A local Hub on ``host:port`` (port 0: a free one) serving files persisted under ``root``, run in a
    background thread. ``ctx.counts`` counts requests by kind and ``ctx.add_fault`` scripts failures."""

    def __init__(self, root: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None) -> None:
        self.root = Path(root).expanduser()
        self.host = host
        self.port = port
        self.ctx = HubContext(state=HubState(self.root), token=token)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner = web.AppRunner(build_app(self.ctx), access_log=None)
                loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, self.host, self.port)
                loop.run_until_complete(site.start())
                self.port = self._runner.addresses[0][1]
            except Exception as error:  # noqa: BLE001 - any start-up failure is re-raised by start()
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="local-hub", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(root: str | Path, *, host: str = "127.0.0.1", port: int = 8080, token: str | None = None) -> None:
    """Serve a local Hub in the foreground until interrupted (``lm-mixup hub serve``)."""
    root = Path(root).expanduser()
    ctx = HubContext(state=HubState(root), token=token)
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())
    print(f"local Hub serving {root.resolve()} at http://{host}:{port} "
          f"(set HF_ENDPOINT=http://{host}:{port} HF_HUB_DISABLE_XET=1)", flush=True)
    web.run_app(build_app(ctx), host=host, port=port, print=None,
                access_log_format='%a "%r" %s %b %Tfs')
