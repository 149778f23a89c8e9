"""Crash and edit resilience: a SIGKILLed run resumes without duplicates, losses or re-sent completed
requests; editing one template re-sends only its requests."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mixture_builder.teacher.cache import request_key
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.templates import load_template
from mixture_builder.teacher.testing import last_user_message

JOB = Path(__file__).with_name("_resume_job.py")
RATING_JOB = Path(__file__).with_name("_rating_job.py")
N_DOCS = 120


def logged_key(request_json: dict) -> str:
    params = {k: v for k, v in request_json.items() if k not in ("model", "messages")}
    return request_key(request_json["model"], request_json["messages"], params)


def cached_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return {row[0] for row in db.execute("SELECT key FROM responses")}
        except sqlite3.OperationalError:  # table not created yet
            return set()


def test_sigkill_mid_run_then_rerun(serve, tmp_path):
    server = serve(lambda r: "reply to " + last_user_message(r), latency=0.1)
    command = [sys.executable, str(JOB), server.base_url, str(tmp_path)]
    cache = tmp_path / "cache.sqlite"
    kill_midway(command, cache, at_least=20)
    completed = cached_keys(cache)
    sent_first = len(server.requests)
    assert 20 <= len(completed) < 60

    rerun = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]

    resent = [logged_key(r) for r in server.requests[sent_first:]]
    assert not set(resent) & completed, "a request completed before the crash was sent again"
    assert len(resent) == len(set(resent)) == 60 - len(completed)
    lines = [json.loads(line) for f in sorted((tmp_path / "out").glob("*.jsonl")) for line in f.open()]
    ids = [line["id"] for line in lines]
    assert len(ids) == len(set(ids)) == 60
    assert all(line["metadata"]["reply"] == "reply to " + line["text"] for line in lines)
    assert not (tmp_path / "failed.jsonl").exists()


def rating_reply(request: dict) -> str:
    """A deterministic rating per prompt (so a rerun and a clean run agree)."""
    number = int(last_user_message(request).split("Question ")[1].split("?")[0])
    return json.dumps({"rarity": 3 + number % 5, "complexity": 4, "informativeness": 5, "overall": 2 + number % 9})


def kill_midway(command: list[str], cache: Path, at_least: int) -> None:
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(cached_keys(cache)) < at_least:
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGKILL)  # the job and any process it forked, as a scheduler kills a job
    child.wait()
    assert child.returncode == -signal.SIGKILL


def test_rating_run_killed_midway_reruns_to_identical_output(serve, tmp_path):
    clean_server = serve(rating_reply, latency=0.02)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, str(RATING_JOB), clean_server.base_url, str(clean), str(N_DOCS)], check=True,
                   capture_output=True, timeout=120)

    server = serve(rating_reply, latency=0.1)
    work = tmp_path / "killed"
    command = [sys.executable, str(RATING_JOB), server.base_url, str(work), str(N_DOCS)]
    kill_midway(command, work / "cache.sqlite", at_least=N_DOCS // 3)
    answered = cached_keys(work / "cache.sqlite")
    sent_first = len(server.requests)
    assert N_DOCS // 3 <= len(answered) < N_DOCS

    rerun = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    resent = [logged_key(r) for r in server.requests[sent_first:]]
    assert not set(resent) & answered, "a request answered before the kill was sent again"
    assert len(resent) == len(set(resent)) == N_DOCS - len(answered)
    (output,) = sorted((work / "out").glob("*.jsonl"))
    (expected,) = sorted((clean / "out").glob("*.jsonl"))
    assert output.read_text() == expected.read_text()
    assert len(expected.read_text().splitlines()) == N_DOCS
    assert not (work / "failed.jsonl").exists()


TEMPLATE = """---
name: {name}
version: 1
---
[user]
{prefix} {{{{ item }}}}
"""


def test_editing_one_template_resends_only_its_requests(serve, make_config, tmp_path):
    server = serve(lambda r: "ok " + last_user_message(r))
    paths = {name: tmp_path / f"{name}.jinja" for name in ("write", "degrade")}
    for name, path in paths.items():
        path.write_text(TEMPLATE.format(name=name, prefix=f"{name.title()}:"))

    def run() -> list:
        requests = [load_template(str(path)).request(item=f"item {i}") for path in paths.values()
                    for i in range(10)]
        with Teacher.from_config(make_config(server)) as teacher:
            return teacher.generate(requests)

    first = run()
    assert len(server.requests) == 20 and all(r.ok for r in first)
    paths["degrade"].write_text(TEMPLATE.format(name="degrade", prefix="Degrade this:").replace("version: 1",
                                                                                                 "version: 2"))
    import os

    os.utime(paths["degrade"], ns=(1, 10**18))
    second = run()
    new = server.requests[20:]
    assert len(new) == 10 and all(last_user_message(r).startswith("Degrade this:") for r in new)
    assert [r.cached for r in second] == [True] * 10 + [False] * 10
    assert run() and len(server.requests) == 30  # a third run sends nothing
