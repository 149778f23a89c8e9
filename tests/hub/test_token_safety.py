"""The token in HF_TOKEN never shows up in a log line, an exception message or a file the push/pull produces."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from hub.push import HubTransferError, pull, push_folder
from tests.hub.conftest import SECRET_TOKEN

LOGGERS = ("", "huggingface_hub", "datasets", "hub", "aiohttp", "httpx", "httpx2", "urllib3")


def _files_containing(root: Path, secret: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_token_absent_from_logs_errors_and_files(hub, tmp_path: Path, dataset_folder) -> None:
    import datasets
    from huggingface_hub.utils import logging as hf_logging

    folder, _ = dataset_folder
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    hf_verbosity = hf_logging.get_verbosity()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG)
    hf_logging.set_verbosity_debug()
    errors: list[str] = []
    try:
        push_folder(folder, "org/safe", private=True)
        datasets.load_dataset("org/safe", "sft")
        pull("org/safe", tmp_path / "pulled")
        hub.ctx.add_fault("commit", 500, times=-1)
        (folder / "extra.txt").write_text("changed so a commit is needed")
        with pytest.raises(HubTransferError) as failed:
            push_folder(folder, "org/safe", max_retries=1)
        errors.append(str(failed.value))
        hub.ctx.faults.clear()
        hub.ctx.token = "hf_theServerExpectsAnotherToken"  # the client's token is now rejected: 401
        with pytest.raises(HubTransferError) as denied:
            push_folder(folder, "org/safe", max_retries=0)
        errors.append(str(denied.value))
        assert "401" in errors[-1]
        errors.append(repr(denied.value))
    finally:
        hf_logging.set_verbosity(hf_verbosity)
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(saved[name])
    logs = stream.getvalue()
    assert "(authenticated: True)" in logs  # debug request logging of authenticated calls was captured
    assert SECRET_TOKEN not in logs
    assert all(SECRET_TOKEN not in error for error in errors)
    for root in (hub.root, tmp_path / "hf_home", tmp_path / "pulled", folder):
        assert _files_containing(root, SECRET_TOKEN.encode()) == [], root
