"""What a person sees while a chain of datatrove stages runs: one line per stage.

:func:`stage_console` sends everything written to stderr (datatrove's loguru logs, library progress bars,
also from worker processes: the file descriptor is redirected) to a log file in the work folder, and prints
on stdout one line per stage: a live bar on a terminal (items, rate, ETA), then the stage's counts when it
ends. Items are counted by :class:`ProgressCounter` steps (one small file per task, rewritten at most twice
a second); a stage has ended when datatrove has recorded every task as complete. ``verbose`` leaves stderr
alone and prints no stage lines (datatrove's logs are the progress then). Errors still reach the caller,
whose CLI prints them as one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Self, TextIO

import typer
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers.base import BaseReader

VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show datatrove's logs instead of one line per stage.")
]
"""The ``--verbose`` flag of the pipeline commands (``build``, ``distill``, ``select``)."""

PROGRESS = "progress"
"""Subfolder of a stage's logging folder holding the per-task item counts."""


class ProgressCounter(PipelineStep):
    """Pass-through step counting the documents a task has seen into ``{folder}/{rank:05d}``."""

    name = "⏱ progress"
    type = "📊 - STATS"

    def __init__(self, folder: str | Path, interval_s: float = 0.5) -> None:
        super().__init__()
        self.folder = str(folder)
        self.interval_s = interval_s

    def _write(self, rank: int, count: int) -> None:
        path = Path(self.folder) / f"{rank:05d}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(str(count))
        tmp.replace(path)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        count, last = 0, 0.0
        for doc in data or []:
            count += 1
            now = time.monotonic()
            if now - last >= self.interval_s:
                self._write(rank, count)
                last = now
            yield doc
        self._write(rank, count)


def with_progress(pipeline: list[Any], logging_dir: str | Path) -> list[Any]:
    """``pipeline`` with a :class:`ProgressCounter` after its leading readers (unchanged without readers)."""
    n = 0
    while n < len(pipeline) and isinstance(pipeline[n], BaseReader):
        n += 1
    return [*pipeline[:n], ProgressCounter(Path(logging_dir) / PROGRESS), *pipeline[n:]] if n else pipeline


@dataclass
class Stage:
    """One executor to watch: its name, logging folder and task count."""

    name: str
    logging_dir: Path
    tasks: int
    started: float | None = None
    counts: Callable[[Path], str] | None = field(default=None, repr=False)

    def done_tasks(self) -> int:
        folder = self.logging_dir / "completions"
        return len(list(folder.iterdir())) if folder.is_dir() else 0

    def items(self) -> int | None:
        folder = self.logging_dir / PROGRESS
        if not folder.is_dir():
            return None
        return sum(int(p.read_text() or 0) for p in folder.iterdir() if p.suffix != ".tmp")


def stages_of(executors: dict[str, Any]) -> list[Stage]:
    """The stages of a dict of chained datatrove executors, in run order."""
    return [Stage(name, Path(ex.logging_dir.path), ex.world_size) for name, ex in executors.items()]


def stat_total(value: Any) -> int:
    """The total of one datatrove stat entry: an int, or a dict with ``total`` (the shape depends on how the
    executor merged its tasks' stats)."""
    if isinstance(value, dict):
        return int(value.get("total", 0))
    return int(value or 0)


def drop_summary(logging_dir: Path) -> str:
    """``out N; dropped: reason n, …`` from a finished stage's ``stats.json`` (last step's total as out)."""
    path = logging_dir / "stats.json"
    if not path.is_file():
        return ""
    steps = json.loads(path.read_text())
    dropped: dict[str, int] = {}
    for step in steps:
        for label, value in step.get("stats", {}).items():
            if label.startswith("dropped_") and (n := stat_total(value)):
                reason = label.removeprefix("dropped_")
                dropped[reason] = dropped.get(reason, 0) + n
    last = steps[-1].get("stats", {}) if steps else {}
    parts = [f"out {stat_total(last['total']):,}"] if "total" in last else []
    if dropped:
        parts.append("dropped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(dropped.items())))
    return "; ".join(parts)


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class StageMonitor:
    """Polls the stages and prints their lines to ``out`` (a live bar only when ``out`` is a terminal)."""

    def __init__(self, stages: list[Stage], out: TextIO, interval_s: float = 0.5) -> None:
        self.stages = stages
        self.out = out
        self.live = out.isatty()
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._pending = list(stages)
        self._skipped_done = {s.name for s in stages if s.done_tasks() >= s.tasks}

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll(final=exc[0] is None)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    def poll(self, final: bool = False) -> None:
        now = time.monotonic()
        while self._pending:
            stage = self._pending[0]
            if stage.done_tasks() < stage.tasks:
                if stage.started is None and (stage.items() is not None or stage.logging_dir.is_dir()):
                    stage.started = now
                if self.live and stage.started is not None:
                    self._write(self._line(stage, now), end="\r")
                return
            self._pending.pop(0)
            self._write(self._line(stage, now, finished=True))

    def _line(self, stage: Stage, now: float, finished: bool = False) -> str:
        if finished and stage.name in self._skipped_done:
            return f"  {stage.name:<18} done earlier (resumed)"
        elapsed = now - (stage.started or now)
        items = stage.items()
        head = f"  {stage.name:<18}"
        if finished:
            rate = ""
            if items and elapsed > 0.5:
                per_s = items / elapsed
                rate = f" ({per_s:,.0f}/s)" if per_s >= 10 else f" ({per_s:.2g}/s)"
            done = f" {items:,} items{rate}" if items is not None else ""
            return f"{head} ✓{done} in {_fmt_s(elapsed)}" + (f"; {s}" if (s := drop_summary(stage.logging_dir)) else "")
        tasks = f" tasks {stage.done_tasks()}/{stage.tasks}" if stage.tasks > 1 else ""
        if not items:
            return f"{head} …{tasks} {_fmt_s(elapsed)}"
        return f"{head} {items:,} items, {items / max(elapsed, 1e-6):,.1f}/s{tasks}, {_fmt_s(elapsed)}"

    def _write(self, line: str, end: str = "\n") -> None:
        """A stage's line; one redrawn in place (``end="\\r"``) is cut to one terminal row, a final one is
        written whole (its counts are what the run reports)."""
        width = 118
        if end == "\r" and len(line) > width:
            line = line[:width - 1] + "…"
        self.out.write(("\r" if self.live else "") + (line.ljust(width) if self.live else line) + end)
        self.out.flush()


@contextlib.contextmanager
def redirect_stderr(log_file: Path) -> Iterator[None]:
    """Send stderr (the Python object, loguru's sinks and file descriptor 2, inherited by worker processes)
    to ``log_file`` (appended)."""
    from loguru import logger

    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", buffering=1, encoding="utf-8") as sink:
        saved_obj, saved_fd = sys.stderr, None
        with contextlib.suppress(OSError, ValueError):
            sys.__stderr__.flush()
            saved_fd = os.dup(2)
            os.dup2(sink.fileno(), 2)
        sys.stderr = sink
        logger.remove()
        handler = logger.add(sink, level="INFO")
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                logger.remove(handler)
            logger.remove()
            sys.stderr = saved_obj
            if saved_fd is not None:
                os.dup2(saved_fd, 2)
                os.close(saved_fd)
            logger.add(sys.stderr, level="INFO")


@contextlib.contextmanager
def stage_console(executors: dict[str, Any], log_file: Path, *, verbose: bool = False,
                  out: TextIO | None = None) -> Iterator[None]:
    """Run the block with one line per stage of ``executors`` on ``out`` (stdout) and the libraries' logs in
    ``log_file``; ``verbose`` shows the logs instead."""
    if verbose:
        yield
        return
    out = out or sys.stdout
    out.write(f"logs: {log_file}\n")
    with redirect_stderr(log_file), StageMonitor(stages_of(executors), out):
        yield
