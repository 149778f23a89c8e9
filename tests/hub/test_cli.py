"""``lm-mixup hub serve``, ``lm-mixup push`` and ``lm-mixup pull`` as a user runs them, in subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hub.conftest import SECRET_TOKEN, write_mixture_folder

CLI = [sys.executable, "-m", "mixture_builder.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen(
            [*CLI, "hub", "serve", "--root", str(tmp_path / "root"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/api/whoami-v2", headers={"Authorization": "Bearer x"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("lm-mixup hub serve did not start")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, timeout=300, env=env)


def test_serve_push_pull_cli(served, tmp_path: Path) -> None:
    url, _ = served
    env = {**os.environ, "HF_ENDPOINT": url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": SECRET_TOKEN,
           "HF_HOME": str(tmp_path / "hf_home")}
    folder = tmp_path / "mixture"
    write_mixture_folder(folder, n=10)
    pushed = _run("push", str(folder), "org/cli-data", "--message", "first build", env=env)
    assert pushed.returncode == 0, pushed.stderr
    commit = pushed.stdout.strip().rsplit(" ", 1)[-1]
    assert len(commit) == 40
    again = _run("push", str(folder), "org/cli-data", env=env)
    assert again.returncode == 0 and again.stdout.strip().endswith(commit)  # nothing new: same commit

    pulled = _run("pull", "org/cli-data", str(tmp_path / "copy"), "--revision", commit, env=env)
    assert pulled.returncode == 0, pulled.stderr
    for shard in folder.glob("data_*/*.parquet"):
        assert (tmp_path / "copy" / shard.relative_to(folder)).read_bytes() == shard.read_bytes()
    assert not (tmp_path / "copy" / ".lm-mixup").exists()

    missing = _run("pull", "org/nothing-here", str(tmp_path / "none"), env=env)
    assert missing.returncode == 2 and missing.stderr.startswith("error: pull of dataset repo org/nothing-here")
    assert len(missing.stderr.strip().splitlines()) == 1
    for result in (pushed, again, pulled, missing):
        assert SECRET_TOKEN not in result.stdout + result.stderr
    assert SECRET_TOKEN not in (tmp_path / "serve.log").read_text()
    for root in (tmp_path / "root", tmp_path / "hf_home"):
        assert not [p for p in root.rglob("*") if p.is_file() and SECRET_TOKEN.encode() in p.read_bytes()]


def test_killed_push_resumes_without_resending(hub, dataset_folder, tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    from hub.push import push_folder

    folder, _ = dataset_folder
    shards = {p.relative_to(folder).as_posix() for p in folder.glob("data_*/*.parquet")}
    hub.ctx.add_fault("lfs_upload", 0, times=-1, delay=0.4)  # slow uploads, so the kill lands mid-push
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": SECRET_TOKEN,
           "HF_HOME": str(tmp_path / "hf_home_cli")}
    process = subprocess.Popen([*CLI, "push", str(folder), "org/killed"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while hub.ctx.counts["lfs_uploaded"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait(timeout=10)
    time.sleep(0.6)  # let uploads the server was already receiving finish (or fail)
    first = list(hub.ctx.uploaded_oids)
    assert 1 <= len(first) < len(shards)
    assert not [f for f in HfApi().list_repo_files("org/killed", repo_type="dataset") if f in shards]

    hub.ctx.faults.clear()
    push_folder(folder, "org/killed")
    second = hub.ctx.uploaded_oids[len(first):]
    assert len(second) == len(shards) - len(first) and not set(first) & set(second)
    assert shards <= set(HfApi().list_repo_files("org/killed", repo_type="dataset"))


def test_offline_pull_fails_at_once_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")}
    started = time.monotonic()
    result = _run("pull", "a/b", str(tmp_path / "x"), env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: pull of dataset repo a/b"), result.stderr
    assert "retry" not in result.stderr
    assert elapsed < 25  # no backoff (5 retries would sleep ~30 s); the rest is interpreter start-up
