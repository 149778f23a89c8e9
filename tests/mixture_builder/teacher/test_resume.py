"""Crash and edit resilience: a SIGKILLed run resumes without duplicates, losses or re-sent completed
requests; editing one template re-sends only its requests."""

from __future__ import annotations

import json
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

    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(cached_keys(cache)) < 20:
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
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
