"""`distill` at scale: a pool of N real instruction records, a scripted teacher over HTTP, time and memory per stage.

    python benchmarks/distill_scale.py N [--tasks 1] [--workers 1] [--work DIR]

The pool is read from ``../shared/data/raw`` (Stanford Alpaca, Code Alpaca, Dolly, GPTeacher, LIMA, OASST,
AlpaGasus, Self-Instruct), records taken round-robin across sources. Beyond the real records it is extended by
recombination: record i of a source joined with another record of that source (distinct texts); those records
are in separate pools whose source is ``<source>-recombined`` (so they are never mixed with real clusters and
show as such in the report). Rater and distiller are the distill tests' scripted teacher
(``tests/mixture_builder/distill/_fixtures_distill.py``) served by ``FakeOpenAIServer`` in a child process,
with no latency. First runs ``lm-mixup distill --dry-run`` on the pool (its report, its time, and the
requests the teacher received meanwhile: none), then ``lm-mixup distill`` as a user runs it, in its own process.
Prints per stage (a datatrove logging folder) its wall time from the task logs and the peak memory of the
``distill`` process and its children (what a user's machine holds for the run; the benchmark and the teacher are
not counted): RSS summed over the processes, sampled every 0.1 s, and PSS (shared pages split among the processes
sharing them), every 1 s. Then one JSON line with ``records``, ``seconds``, ``peak_rss_gb``, ``peak_pss_gb``,
``stage_seconds``, ``stage_peak_rss_gb``, ``report_mb`` and ``dry_run`` (its seconds, requests sent, and per
teacher stage the estimated calls next to the requests sent).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted teacher lives with the tests

from mixture_builder.distill.config import DistillConfig
from mixture_builder.readers import read_records
from mixture_builder.records import instruction_fields
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import scripted_teacher

INTERVAL = 0.1
"""Seconds between RSS samples."""
PSS_EVERY = 10
"""PSS is read every this many samples (it walks every page table: at 0.1 s it cost half a core)."""
RAW = ROOT.parent / "shared" / "data" / "raw"
SOURCES = {
    "alpaca": "stanford_alpaca/alpaca_5000.shared.json",
    "code_alpaca": "code_alpaca/code_alpaca_2k.json",
    "dolly": "dolly_alpagasus_3k/dolly_3k.shared.json",
    "gpteacher": "gpteacher_toolformer/toolformer-dedupe-only-dataset.json",
    "lima": "lima/lima.json",
    "oasst": "oasst1_en_validation/en-validation.jsonl",
    "alpagasus": "alpagasus/random_9k.json",
    "self_instruct": "self_instruct/user_oriented_instructions.jsonl",
}


def real_records() -> tuple[dict[str, list[dict[str, str]]], dict[str, str | None]]:
    """Instruction records and the license the reader found, per source (files missing here are skipped)."""
    out, licenses = {}, {}
    for source, rel in SOURCES.items():
        if (RAW / rel).exists():
            docs = list(read_records(RAW / rel, on_error="skip"))
            rows = [dict(zip(("instruction", "input", "output"), instruction_fields(d))) for d in docs]
            out[source] = [r for r in rows if r["instruction"] and r["output"]]
            licenses[source] = docs[0].metadata.get("license") if docs else None
    if not out:
        raise SystemExit(f"no raw data under {RAW}")
    return out, licenses


def stream_records(real: dict[str, list[dict[str, str]]]) -> Iterator[tuple[str, dict[str, str], bool]]:
    """``(source, record, recombined)``: every real record (round-robin over sources), then recombined rounds:
    in round r, record i of a source is joined with record j = i + 1 + (r·7919 mod (len - 1)) of that source
    (instructions, inputs and outputs each concatenated), so that every record is a distinct text which
    near-deduplication keeps (it shares about half its words with record i and a third with any other round's)."""
    longest = max(map(len, real.values()))
    for i in range(longest):
        for source, rows in real.items():
            if i < len(rows):
                yield source, rows[i], False
    for round_ in itertools.count(1):
        for i in range(longest):
            for source, rows in real.items():
                if i < len(rows) and len(rows) > 1:
                    other = rows[(i + 1 + (round_ * 7919) % (len(rows) - 1)) % len(rows)]
                    yield source, {key: "\n\n".join(filter(None, (rows[i][key], other[key])))
                                   for key in ("instruction", "input", "output")}, True


def build_pool(n: int, folder: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Write N records as JSONL pools (real ones first, then recombined); returns pool entries and counts."""
    real, licenses = real_records()
    chosen: dict[str, list[dict[str, str]]] = {s: [] for s in real}
    recombined: dict[str, list[dict[str, str]]] = {s: [] for s in real}
    for source, row, is_recombined in itertools.islice(stream_records(real), n):
        (recombined if is_recombined else chosen)[source].append(row)
    pools, counts = [], {}
    for origin, source, rows in [*((s, s, r) for s, r in chosen.items()),
                                 *((s, f"{s}-recombined", r) for s, r in recombined.items())]:
        if rows:
            path = folder / f"{source}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            pools.append({"path": str(path), "source": source, "license": licenses[origin]})
            counts[source] = len(rows)
    return pools, counts


def _serve(port: Any, stop: Any, requests: Any) -> None:
    def counted(request: dict[str, Any]) -> Any:
        with requests.get_lock():
            requests.value += 1
        return scripted_teacher(request)

    with FakeOpenAIServer(counted, log_requests=False) as server:
        port.value = server.port
        stop.wait()


class TreeRss:
    """Memory of process ``root`` and its children, sampled every ``INTERVAL`` s as ``(time, rss, pss)`` bytes:
    RSS summed over the processes (pages shared by forked processes counted once per process, so an upper bound)
    and, every ``PSS_EVERY`` samples, PSS (each shared page split among its sharers: what the tree really holds;
    None in between)."""

    def __init__(self, root: int) -> None:
        self.root, self.samples = psutil.Process(root), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for n in itertools.count():
            if self._stop.is_set():
                return
            with_pss = n % PSS_EVERY == 0
            rss = pss = 0
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for proc in tree:
                try:
                    info = proc.memory_full_info() if with_pss else proc.memory_info()
                    rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
                except psutil.Error:
                    pass
            self.samples.append((time.time(), rss, pss if with_pss else None))
            time.sleep(INTERVAL)

    def __enter__(self) -> TreeRss:  # noqa: PYI034
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf"), *, pss: bool = False) -> int:
        """The peak RSS (or PSS) over ``[start, end]``; for a stage shorter than the interval between samples of
        that figure, the first sample after it started."""
        column = 2 if pss else 1
        taken = [sample for sample in self.samples if sample[column] is not None]
        inside = [sample[column] for sample in taken if start <= sample[0] <= end]
        return max(inside) if inside else next((sample[column] for sample in taken if sample[0] >= start), 0)


def _stamp(line: str) -> float | None:
    try:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()
    except ValueError:
        return None


def stage_spans(logs: Path) -> dict[str, tuple[float, float]]:
    """Per datatrove logging folder: (first, last) timestamp over its task logs, in start order."""
    spans = {}
    for folder in sorted(p for p in logs.iterdir() if (p / "logs").is_dir()):
        stamps = [s for log in (folder / "logs").glob("task_*.log")
                  for s in (_stamp(line) for line in log.read_text(errors="replace").splitlines()) if s]
        if stamps:
            spans[folder.name] = (min(stamps), max(stamps))
    return dict(sorted(spans.items(), key=lambda item: item[1][0]))


def distill_command(config_path: Path, *options: str) -> list[str]:
    """``lm-mixup distill --config PATH [options]`` with this interpreter."""
    return [sys.executable, "-m", "mixture_builder.cli", "distill", "--config", str(config_path), *options]


def run_dry_run(config_path: Path, requests: Any) -> dict[str, Any]:
    """``lm-mixup distill --dry-run`` on the pool, as a user runs it; prints its report and returns its time and
    the requests the fake teacher received meanwhile (there must be none)."""
    before, start = requests.value, time.time()
    done = subprocess.run(distill_command(config_path, "--dry-run"), cwd=ROOT, capture_output=True, text=True,
                          check=False)
    seconds = time.time() - start
    print(done.stdout.rstrip() or done.stderr.rstrip())
    if done.returncode:
        raise SystemExit(f"distill --dry-run failed with exit code {done.returncode}")
    sent = requests.value - before
    print(f"dry run: {seconds:.1f} s, {sent} requests received by the teacher")
    return {"seconds": round(seconds, 1), "requests_sent": sent}


def estimate_vs_actual(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per teacher stage: the calls estimated before the run and the requests it sent (plus cache hits)."""
    usage = stats.get("teacher_usage", {})
    return {stage: {"estimated_calls": planned.get("calls"),
                    "requests": usage.get(stage, {}).get("requests", 0),
                    "cache_hits": usage.get(stage, {}).get("cache_hits", 0)}
            for stage, planned in stats.get("estimate", {}).get("stages", {}).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--tasks", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None, help="folder for pool and output (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="distill_scale_"))
    (work / "pool").mkdir(parents=True, exist_ok=True)
    pools, counts = build_pool(args.n, work / "pool")
    print(f"pool: {args.n} records in {work / 'pool'}: " + ", ".join(f"{s} {c}" for s, c in counts.items()))

    port, stop, requests = multiprocessing.Value("i", 0), multiprocessing.Event(), multiprocessing.Value("l", 0)
    server = multiprocessing.Process(target=_serve, args=(port, stop, requests), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    teacher = {"backend": "openai", "base_url": f"http://127.0.0.1:{port.value}/v1", "model": "scripted",
               "cache_path": str(work / "cache.sqlite"), "max_concurrency": 64, "progress": False}
    settings = {
        "output": str(work / "out"), "pools": pools, "report": True, "on_error": "skip",
        "scoring": {"score_column": None, "rater": teacher}, "distiller": {"teacher": teacher},
        "executor": {"tasks": args.tasks, "workers": args.workers},
    }
    config = DistillConfig.from_dict(settings)
    config_path = work / "distill.yaml"
    config_path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    try:
        dry_run = run_dry_run(config_path, requests)
        start = time.time()
        run = subprocess.Popen(distill_command(config_path), cwd=ROOT)
        with TreeRss(run.pid) as rss:
            returncode = run.wait()
        seconds = time.time() - start
    finally:
        stop.set()
        server.join(timeout=10)
    if returncode:
        raise SystemExit(f"distill failed with exit code {returncode}")
    stats = json.loads((Path(config.output) / "stats.json").read_text(encoding="utf-8"))
    dry_run["stages"] = estimate_vs_actual(stats)
    dry_run["server_requests"] = requests.value
    spans = stage_spans(config.work_dir / "logs")
    for name, (first, last) in spans.items():
        print(f"{name:>22}: {last - first:8.1f} s  peak RSS {rss.peak(first, last) / 2**30:.2f} GB, "
              f"PSS {rss.peak(first, last, pss=True) / 2**30:.2f} GB")
    report = Path(config.output) / "report.html"
    report_mb = report.stat().st_size / 2**20 if report.exists() else 0.0
    out = stats["output"]
    print(f"total: {seconds:.1f} s, peak RSS {rss.peak() / 2**30:.2f} GB (PSS {rss.peak(pss=True) / 2**30:.2f} GB); "
          f"{out['rows']} rows "
          f"({out['distilled']} distilled, {out['original']} original); report {report_mb:.1f} MB")
    print(json.dumps({
        "records": args.n, "tasks": args.tasks, "seconds": round(seconds, 1),
        "peak_rss_gb": round(rss.peak() / 2**30, 3), "peak_pss_gb": round(rss.peak(pss=True) / 2**30, 3),
        "stage_seconds": {name: round(last - first, 1) for name, (first, last) in spans.items()},
        "stage_peak_rss_gb": {name: round(rss.peak(first, last) / 2**30, 3) for name, (first, last) in spans.items()},
        "report_mb": round(report_mb, 2), "dry_run": dry_run, "recombined_records": sum(c for s, c in counts.items() if "-recombined" in s),
    }))


if __name__ == "__main__":
    main()
