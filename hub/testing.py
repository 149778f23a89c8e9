"""Run the real ``huggingface_hub``/``datasets``/``transformers`` clients against a local Hub.

``local_hub(root)`` starts a :class:`~hub.server.HubServer` on a free port and points the clients at it;
``hub_environment(endpoint)`` only does the pointing. Both restore everything on exit.

``huggingface_hub.constants`` and ``datasets.config`` read ``HF_ENDPOINT``, ``HF_HOME`` and
``HF_HUB_DISABLE_XET`` once, at import time, so setting the environment is not enough in a process that has
already imported them: the module attributes derived from those variables are patched as well.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from hub.server import HubServer

DUMMY_TOKEN = "hf_localhubdummytoken0000000000000000"


def _patch(stack: ExitStack, target: Any, name: str, value: Any) -> None:
    if not hasattr(target, name):
        return
    old = getattr(target, name)
    setattr(target, name, value)
    stack.callback(setattr, target, name, old)


def _patch_env(stack: ExitStack, updates: dict[str, str]) -> None:
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    stack.callback(restore)


@contextmanager
def hub_environment(endpoint: str, *, token: str | None = DUMMY_TOKEN,
                    hf_home: str | Path | None = None) -> Iterator[Path]:
    """Point the Hugging Face clients of this process (and of subprocesses it starts) at ``endpoint``, with
    Xet disabled, ``token`` as ``HF_TOKEN`` and a fresh ``HF_HOME`` (a temporary folder unless given).
    Yields the ``HF_HOME`` folder."""
    from datasets import config as ds_config
    from huggingface_hub import constants

    endpoint = endpoint.rstrip("/")
    with ExitStack() as stack:
        home = Path(hf_home) if hf_home is not None else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {"HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(home),
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0"}
        if token is not None:
            env["HF_TOKEN"] = token
        _patch_env(stack, env)
        hub_cache = str(home / "hub")
        for name, value in {
            "ENDPOINT": endpoint,
            "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
            "HF_HUB_DISABLE_XET": True,
            "HF_HUB_OFFLINE": False,
            "HF_HOME": str(home),
            "HF_HUB_CACHE": hub_cache,
            "HUGGINGFACE_HUB_CACHE": hub_cache,
            "HF_ASSETS_CACHE": str(home / "assets"),
            "HF_TOKEN_PATH": str(home / "token"),
            "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
            "HF_XET_CACHE": str(home / "xet"),
        }.items():
            _patch(stack, constants, name, value)
        datasets_cache = home / "datasets"
        for name, value in {
            "HF_ENDPOINT": endpoint,
            "HUB_DATASETS_URL": endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
            "HF_HUB_OFFLINE": False,
            "HF_CACHE_HOME": str(home),
            "HF_DATASETS_CACHE": datasets_cache,
            "DOWNLOADED_DATASETS_PATH": datasets_cache / "downloads",
            "EXTRACTED_DATASETS_PATH": datasets_cache / "downloads" / "extracted",
            "HF_MODULES_CACHE": home / "modules",
        }.items():
            _patch(stack, ds_config, name, value)
        _clear_filesystem_cache()
        stack.callback(_clear_filesystem_cache)
        yield home


def _clear_filesystem_cache() -> None:
    """Forget cached ``HfFileSystem`` instances (they remember listings and the endpoint of earlier runs)."""
    from huggingface_hub import HfFileSystem

    HfFileSystem.clear_instance_cache()


@contextmanager
def local_hub(root: str | Path | None = None, *, token: str | None = DUMMY_TOKEN,
              server_token: str | None = None) -> Iterator[str]:
    """Start a local Hub persisted under ``root`` (a temporary folder unless given), point the clients at it
    (see :func:`hub_environment`) and yield its endpoint URL. ``server_token``, when set, is the only token
    the server accepts for writes."""
    with ExitStack() as stack:
        if root is None:
            root = stack.enter_context(tempfile.TemporaryDirectory())
        server = stack.enter_context(HubServer(root, token=server_token))
        stack.enter_context(hub_environment(server.url, token=token))
        yield server.url


try:
    import pytest
except ImportError:  # pytest is a dev dependency; the context managers work without it
    pytest = None

if pytest is not None:

    @pytest.fixture
    def local_hub_endpoint(tmp_path: Path) -> Iterator[str]:
        """The URL of a fresh local Hub (persisted under ``tmp_path/hub``) the clients are pointed at.
        Import it into a test module (``from hub.testing import local_hub_endpoint``) to use it."""
        with local_hub(tmp_path / "hub") as endpoint:
            yield endpoint
