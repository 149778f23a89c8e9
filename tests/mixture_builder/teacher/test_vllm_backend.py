"""Backend ``vllm``: datatrove's ``VLLMServer`` launches ``vllm serve`` and the Teacher queries it.

vLLM cannot be installed here (it needs a CUDA torch), so a stand-in ``vllm`` distribution is put on the path:
its ``vllm serve MODEL --port P`` command starts the OpenAI-compatible ``FakeOpenAIServer`` on that port. Every
other part — datatrove's launch, readiness polling, shutdown, and the toolkit's HTTP client — is real.
"""

from __future__ import annotations

import os
import stat
import sys

import pytest

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.types import ChatRequest

SERVE = """\
#!{python}
import sys, threading
sys.path.insert(0, {project!r})
from mixture_builder.teacher.testing import FakeOpenAIServer, last_user_message
args = sys.argv[1:]
assert args[0] == "serve", args
model, port = args[1], int(args[args.index("--port") + 1])
server = FakeOpenAIServer(lambda r: "vllm says " + last_user_message(r), host="127.0.0.1", port=port, model=model)
server.start()
print("serving", model, flush=True)
threading.Event().wait()
"""


# A ``vllm serve`` that records its launch (pid) and then either exits at once or never becomes ready.
BROKEN_SERVE = """\
#!{python}
import os, sys, time
with open(os.environ["VLLM_LAUNCH_LOG"], "a") as log:
    log.write(f"{{os.getpid()}}\\n")
if os.environ["VLLM_STAND_IN_MODE"] == "exit":
    sys.exit(3)
time.sleep(600)
"""


@pytest.fixture
def stand_in_vllm(tmp_path, monkeypatch):
    _install_stand_in(tmp_path, monkeypatch, SERVE)
    import importlib

    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("vllm", None)


@pytest.fixture
def broken_vllm(tmp_path, monkeypatch):
    _install_stand_in(tmp_path, monkeypatch, BROKEN_SERVE)
    monkeypatch.setenv("VLLM_LAUNCH_LOG", str(tmp_path / "launches.txt"))
    import importlib

    importlib.invalidate_caches()
    yield tmp_path / "launches.txt"
    sys.modules.pop("vllm", None)


def _install_stand_in(tmp_path, monkeypatch, serve_script):
    site = tmp_path / "site"
    (site / "vllm").mkdir(parents=True)
    (site / "vllm" / "__init__.py").write_text('__version__ = "0.0.0+stand-in"\n')
    (site / "vllm-0.0.0.dist-info").mkdir()
    (site / "vllm-0.0.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm\nVersion: 0.0.0\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "vllm"
    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    script.write_text(serve_script.format(python=sys.executable, project=project))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("VLLM_COMPILE_LOCK_DIR", str(tmp_path / "locks"))


def test_vllm_backend_starts_the_server_and_answers(stand_in_vllm, tmp_path):
    config = TeacherConfig(backend="vllm", model="my-org/my-model", cache_path=str(tmp_path / "cache.sqlite"),
                           progress=False, vllm_kwargs={"server_ready_delay_sec": 0.2, "model_max_context": 2048})
    with Teacher.from_config(config) as teacher:
        results = teacher.generate([ChatRequest([{"role": "user", "content": c}]) for c in ("a", "b")])
    assert [r.text for r in results] == ["vllm says a", "vllm says b"]
    assert teacher.stats.succeeded == 2


def test_vllm_backend_without_vllm_is_a_clear_error(tmp_path):
    import importlib.util

    from mixture_builder.errors import ConfigError

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    config = TeacherConfig(backend="vllm", model="m", cache_path=str(tmp_path / "c.sqlite"), progress=False)
    with pytest.raises(ConfigError, match="vLLM"), Teacher.from_config(config) as teacher:
        teacher.generate([ChatRequest([{"role": "user", "content": "x"}])])


def test_vllm_server_that_cannot_start_is_a_clear_error(stand_in_vllm, tmp_path, monkeypatch):
    from mixture_builder.errors import ConfigError

    monkeypatch.setenv("PATH", "/nonexistent")  # the vllm command is missing: the launch fails
    config = TeacherConfig(backend="vllm", model="m", cache_path=str(tmp_path / "c.sqlite"), progress=False,
                           vllm_kwargs={"server_ready_delay_sec": 0.1, "server_start_max_retries": 0})
    with pytest.raises(ConfigError, match="did not start"), Teacher.from_config(config) as teacher:
        teacher.generate([ChatRequest([{"role": "user", "content": "x"}])])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat_file:  # a zombie has exited
            return stat_file.read().split(")")[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["exit", "never_ready"])
def test_vllm_start_failure_launches_once_and_stops_the_server(broken_vllm, tmp_path, monkeypatch, mode):
    from mixture_builder.errors import ConfigError

    monkeypatch.setenv("VLLM_STAND_IN_MODE", mode)
    config = TeacherConfig(backend="vllm", model="m", cache_path=str(tmp_path / "c.sqlite"), progress=False,
                           max_concurrency=4, vllm_kwargs={"server_ready_delay_sec": 0.1,
                                                           "server_ready_max_attempts": 5,
                                                           "server_start_max_retries": 0})
    requests = [ChatRequest([{"role": "user", "content": f"q{i}"}]) for i in range(8)]
    with Teacher.from_config(config) as teacher:
        with pytest.raises(ConfigError, match="did not start"):
            teacher.generate(requests)
        pids = [int(line) for line in broken_vllm.read_text().split()]
        assert len(pids) == 1  # the waiting workers did not launch servers of their own
        assert not any(_alive(pid) for pid in pids)  # the failed server was stopped at once, not at close
        with pytest.raises(ConfigError, match="did not start"):  # a later call gets the same error, no relaunch
            teacher.generate(requests[:2])
    assert len(broken_vllm.read_text().split()) == 1
