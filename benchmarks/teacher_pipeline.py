"""The pipeline's teacher step against ``Teacher.generate`` and the ideal rate, over HTTP, in one run.

Rates N instruction records (default 6,000) with ``QualityRater`` (a ``TeacherStep``, consumed as a
datatrove pipeline consumes it) and sends the same N requests through one ``Teacher.generate`` call, each
against a fresh fake OpenAI-compatible server in its own process (so client CPU is measured alone, and both
runs see the same per-prompt latencies and faults). Scenarios:

- ``lognormal``: reply latency lognormal, median 0.5 s, sigma 1 (mean 0.82 s), 64 in flight;
- ``faults``: the same plus a 10% fault mix per attempt (429 with ``Retry-After``, 500, dropped connection,
  malformed body, 3 s hang then 504, truncated reply), checked for silent loss (every document comes out,
  rated or with its failure counted; requests == succeeded + failed);
- ``fixed64`` / ``fixed256``: fixed 50 ms latency at 64 and 256 in flight (client overhead dominates: the
  client is CPU-bound, so these two are noisy on a shared machine; each mode runs ``--repeats`` times,
  alternating which goes first, and its best rate is kept).

The ideal rate is concurrency / mean latency, a steady-state rate; a finite run also pays for draining its last
slots, which with sigma 1 can hold 10-30 s replies. For the lognormal scenarios the script therefore prints the
bound too: the ratio a zero-overhead client sending in input order reaches with the same first-attempt latencies
(0.80 for 3,000 requests, whose draws include a 27 s reply; 0.94 for 6,000). The teacher config is the default
(retries, backoff, cache on, a fresh cache per run) but for the endpoint and ``max_concurrency``. Prints one line
per run; the last line is one JSON object::

    python benchmarks/teacher_pipeline.py [--requests 6000] [--fixed-requests 6000] [--repeats 3] [--retry-after 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import heapq
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

RATING = '{"rarity": 6, "complexity": 5, "informativeness": 7, "overall": 8}'
FAULT_KINDS = ("rate_limited", "server_error", "disconnect", "malformed", "hang", "truncated")


def draw(prompt: str, attempt: int, salt: str) -> random.Random:
    """A generator seeded by prompt and attempt: the same draws for every client that sends this prompt."""
    return random.Random(hashlib.sha256(f"{salt}|{attempt}|{prompt}".encode()).digest())


def serve(args: argparse.Namespace) -> None:
    """The fake server process: lognormal or fixed latency and a fault mix, drawn per (prompt, attempt)."""
    from mixture_builder.teacher.testing import FakeOpenAIServer, Fault, last_user_message

    seen: Counter[str] = Counter()
    faults = {"rate_limited": Fault.rate_limited(args.retry_after), "server_error": Fault.error(500),
              "disconnect": Fault.disconnect(), "malformed": Fault.malformed(), "hang": Fault.hang(3.0),
              "truncated": Fault.truncated(RATING[:20])}

    def responder(request: dict[str, Any]) -> Any:
        prompt = last_user_message(request)
        rng = draw(prompt, seen[prompt], "fault")
        seen[prompt] += 1
        return faults[rng.choice(FAULT_KINDS)] if rng.random() < args.fault_rate else RATING

    class Server(FakeOpenAIServer):
        async def _chat(self, request: Any) -> Any:
            body = json.loads(await request.read())
            prompt = last_user_message(body)
            delay = args.fixed_latency or draw(prompt, seen[prompt], "latency").lognormvariate(
                math.log(args.median), args.sigma)
            await asyncio.sleep(delay)
            return await super()._chat(request)

    server = Server(responder, host=args.host, log_requests=False).start()
    print(server.base_url, flush=True)
    sys.stdin.read()  # until the parent closes the pipe
    server.stop()


def start_server(args: argparse.Namespace, **options: Any) -> tuple[subprocess.Popen, str]:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    process = subprocess.Popen([sys.executable, __file__, "--serve", f"--host={args.host}", *flags],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http"):
        process.kill()
        raise SystemExit(f"the fake server did not start on {args.host}")
    return process, base_url


def records(n: int, run: str) -> list[Any]:
    from mixture_builder.records import make_instruction

    return [make_instruction(instruction=f"[{run}] Explain item {i} in two sentences.",
                             output=f"Item {i} is a thing. It has {i % 7} parts.", source="bench",
                             license="cc0", source_id=i) for i in range(n)]


def fifo_bound(args: argparse.Namespace, concurrency: int, n: int, run: str) -> float:
    """Seconds a zero-overhead client needs for the first-attempt latencies the server draws for ``run``."""
    from mixture_builder.teacher.config import TeacherConfig
    from mixture_builder.teacher.rater import QualityRater
    from mixture_builder.teacher.testing import last_user_message

    rater = QualityRater(TeacherConfig(backend="openai", base_url="http://unused", model="bench"))
    slots = [0.0] * concurrency
    for doc in records(n, run):
        prompt = last_user_message({"messages": rater.format_input(doc).messages})
        latency = draw(prompt, 0, "latency").lognormvariate(math.log(args.median), args.sigma)
        heapq.heappush(slots, heapq.heappop(slots) + latency)
    return max(slots)


def run_once(args: argparse.Namespace, mode: str, concurrency: int, n: int, run: str, work: str,
             **server_options: Any) -> dict[str, Any]:
    """One timed run of the step (``mode="step"``) or of ``Teacher.generate`` against a fresh server."""
    from mixture_builder.teacher.client import Teacher
    from mixture_builder.teacher.config import TeacherConfig
    from mixture_builder.teacher.rater import QualityRater

    server, base_url = start_server(args, **server_options)
    try:
        config = TeacherConfig(backend="openai", base_url=base_url, model="bench", max_concurrency=concurrency,
                               cache_path=f"{work}/{mode}-{run}.sqlite", progress=False)
        rater = QualityRater(config, on_parse_error="keep")
        docs = records(n, run)
        start, cpu = time.perf_counter(), time.process_time()
        if mode == "step":
            out = list(rater.run(docs))
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            stats = {k: (v.total if hasattr(v, "total") else v) for k, v in rater.stats.stats.items()}
            rated = sum(d.metadata.get("quality") is not None for d in out)
            emitted, sent = len(out), stats.get("teacher_requests", 0)
            succeeded, failed = stats.get("teacher_succeeded", 0), stats.get("teacher_failed", 0)
        else:
            with Teacher.from_config(config) as teacher:
                results = teacher.generate([rater.format_input(d) for d in docs])
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            rated = sum(r.parsed is not None for r in results)
            emitted, sent = len(results), teacher.stats.requests
            succeeded, failed = teacher.stats.succeeded, teacher.stats.failed
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return {"wall_s": round(wall, 2), "rate": n / wall, "cpu_ms": 1000 * cpu / n, "emitted": emitted, "rated": rated, "sent": sent,
            "succeeded": succeeded, "failed": failed, "lost": n - emitted + (sent - succeeded - failed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--fixed-requests", type=int, default=6000)
    parser.add_argument("--retry-after", type=float, default=0.2, help="Retry-After of the scripted 429s.")
    parser.add_argument("--repeats", type=int, default=3,
                        help="Runs of each fixed-latency scenario per mode (alternating which mode goes first); "
                             "the best rate of each mode is kept.")
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--only", nargs="+", choices=["lognormal", "faults", "fixed64", "fixed256"],
                        help="Run only these scenarios (the JSON line then lacks the others).")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--median", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--sigma", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--fault-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--fixed-latency", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return

    mean_lognormal = 0.5 * math.exp(0.5)  # median 0.5 s, sigma 1
    scenarios = [  # name, concurrency, requests, mean latency, server options
        ("lognormal", 64, args.requests, mean_lognormal, {}),
        ("faults", 64, args.requests, mean_lognormal, {"fault_rate": 0.1, "retry_after": args.retry_after}),
        ("fixed64", 64, args.fixed_requests, 0.05, {"fixed_latency": 0.05}),
        ("fixed256", 256, args.fixed_requests, 0.05, {"fixed_latency": 0.05}),
    ]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; ideal = concurrency / mean latency")
    print(f"{'scenario':<10} {'mode':<9} {'conc.':>5} {'n':>5} {'wall s':>7} {'req/s':>7} {'ideal':>6} {'ratio':>6} "
          f"{'cpu ms/doc':>10} {'rated':>6} {'sent':>6} {'failed':>6} {'lost':>4}")
    ratios: dict[str, float] = {}
    lost = 0
    with tempfile.TemporaryDirectory() as work:
        for name, concurrency, n, mean, options in scenarios:
            if args.only and name not in args.only:
                continue
            ideal = concurrency / mean
            if "fixed_latency" not in options:
                ratios[f"{name}_bound"] = n / fifo_bound(args, concurrency, n, name) / ideal
                print(f"{name:<10} {'bound':<9} {concurrency:>5} {n:>5} {n / ideal / ratios[name + '_bound']:>7.1f} "
                      f"{'':>7} {ideal:>6.0f} {ratios[name + '_bound']:>6.2f}", flush=True)
            repeats = args.repeats if "fixed_latency" in options else 1
            for r in range(repeats):
                for mode in ("step", "generate") if r % 2 == 0 else ("generate", "step"):
                    result = run_once(args, mode, concurrency, n, f"{name}{r or ''}", work, **options)
                    ratios[f"{name}_{mode}"] = max(ratios.get(f"{name}_{mode}", 0.0), result["rate"] / ideal)
                    lost += result["lost"]
                    print(f"{name:<10} {mode:<9} {concurrency:>5} {n:>5} {result['wall_s']:>7.1f} {result['rate']:>7.0f} "
                          f"{ideal:>6.0f} {result['rate'] / ideal:>6.2f} {result['cpu_ms']:>10.2f} {result['rated']:>6} "
                          f"{result['sent']:>6} {result['failed']:>6} {result['lost']:>4}", flush=True)
    figures = {f"{name}_{mode}_ratio": round(ratios[f"{name}_{mode}"], 3) for name in ("lognormal", "faults")
               for mode in ("step", "generate", "bound") if f"{name}_{mode}" in ratios}
    figures.update({f"{name}_step_vs_generate": round(ratios[f"{name}_step"] / ratios[f"{name}_generate"], 3)
                    for name in ("fixed64", "fixed256") if f"{name}_step" in ratios})
    print(json.dumps({
        **figures, "lost": lost, "retry_after_s": args.retry_after, "requests": args.requests,
        "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
