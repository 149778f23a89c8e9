"""Teacher-layer throughput against a "remote" OpenAI-compatible server (127.0.0.2, 50 ms per reply).

Sends N requests (default 2,000) at concurrency 64 and 256 through the toolkit's ``Teacher`` (lean aiohttp
client, SQLite cache on, retries and accounting on) and, in the same run, through a plain ``openai.AsyncOpenAI``
client with an ``asyncio.Semaphore`` (the baseline) and through bare aiohttp (a reference: the floor of client
cost, without cache, retries or accounting). The fake server runs in its own process, so client CPU is
measured alone. Prints requests/s, the ratio to the ideal (concurrency / latency) and client CPU seconds per
run; the last line is one JSON object.

    python benchmarks/teacher_throughput.py [--requests 2000] [--latency 0.05] [--host 127.0.0.2]

``--embedded`` instead measures the embedded SmolLM2-135M teacher: generated tokens/s at batch 1 and batch 16
(greedy, 64 new tokens, through ``generate_batch``; ``--dtype bfloat16``, ``--threads N``), with its own JSON
line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start_server(host: str, latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mixture_builder.teacher.testing", "--host", host, "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True)
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http"):
        process.kill()
        raise SystemExit(f"the fake server did not start on {host}")
    return process, base_url


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by another process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prompts(n: int, run: str) -> list[list[dict]]:
    return [[{"role": "user", "content": f"[{run}] Write one sentence about item {i}."}] for i in range(n)]


def run_toolkit(base_url: str, concurrency: int, n: int, cache_dir: str) -> tuple[float, float, dict]:
    from mixture_builder.teacher.client import Teacher
    from mixture_builder.teacher.config import TeacherConfig
    from mixture_builder.teacher.types import ChatRequest

    config = TeacherConfig(backend="openai", base_url=base_url, model="bench", max_concurrency=concurrency,
                           max_tokens=64, cache_path=f"{cache_dir}/cache-{concurrency}.sqlite", progress=False)
    teacher = Teacher.from_config(config)
    teacher.generate([ChatRequest(m) for m in prompts(concurrency, f"warm{concurrency}")])  # open connections
    requests = [ChatRequest(m) for m in prompts(n, f"toolkit{concurrency}")]
    cpu, wall = time.process_time(), time.perf_counter()
    results = teacher.generate(requests)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    teacher.close()
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    return wall, cpu, teacher.stats.as_dict()


def run_baseline(base_url: str, concurrency: int, n: int) -> tuple[float, float]:
    import openai

    async def main() -> tuple[float, float]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=120)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(messages: list[dict]) -> str:
            async with semaphore:
                reply = await client.chat.completions.create(model="bench", messages=messages, max_tokens=64)
                return reply.choices[0].message.content

        await asyncio.gather(*(one(m) for m in prompts(concurrency, f"bwarm{concurrency}")))
        cpu, wall = time.process_time(), time.perf_counter()
        replies = await asyncio.gather(*(one(m) for m in prompts(n, f"baseline{concurrency}")))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await client.close()
        assert all(replies)
        return wall, cpu

    return asyncio.run(main())


def run_embedded(threads: int, dtype: str, new_tokens: int = 64) -> None:
    from mixture_builder.teacher.embedded import embedded_model_dir, generate_batch, load_model

    model_dir = str(embedded_model_dir())
    load_model(model_dir, dtype)
    topics = ["owls", "the Moon", "bread", "rivers", "chess", "volcanoes", "tea", "bicycles", "glaciers", "bees",
              "copper", "maps", "violins", "deserts", "comets", "silk"]
    conversations = [[{"role": "user", "content": f"Write a short paragraph about {t}."}] for t in topics]
    generate_batch(model_dir, conversations[:1], max_tokens=4, threads=threads, dtype=dtype)  # warm up
    figures = {}
    print(f"embedded SmolLM2-135M {dtype}, {threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    for batch in (1, 16):
        start = time.perf_counter()
        results = generate_batch(model_dir, conversations[:batch], max_tokens=new_tokens, threads=threads,
                                 dtype=dtype)
        took = time.perf_counter() - start
        tokens = sum(r.completion_tokens for r in results)
        figures[f"tokens_per_s_batch_{batch}"] = round(tokens / took, 1)
        print(f"batch {batch:>2}: {tokens} tokens in {took:.1f}s = {tokens / took:.1f} tokens/s")
    print(json.dumps({**figures, "dtype": dtype, "threads": threads, "load_average": round(os.getloadavg()[0], 2)}))


def run_raw_aiohttp(base_url: str, concurrency: int, n: int) -> tuple[float, float]:
    """Reference: bare aiohttp + semaphore (no cache, retries or accounting) — the floor of client cost."""
    import aiohttp

    async def main() -> tuple[float, float]:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            semaphore = asyncio.Semaphore(concurrency)

            async def one(messages: list[dict]) -> str:
                body = json.dumps({"model": "bench", "messages": messages, "max_tokens": 64}).encode()
                async with semaphore, session.post(f"{base_url}/chat/completions", data=body,
                                                   headers={"Content-Type": "application/json"}) as response:
                    return json.loads(await response.read())["choices"][0]["message"]["content"]

            await asyncio.gather(*(one(m) for m in prompts(concurrency, f"rwarm{concurrency}")))
            cpu, wall = time.process_time(), time.perf_counter()
            replies = await asyncio.gather(*(one(m) for m in prompts(n, f"raw{concurrency}")))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert all(replies)
        return wall, cpu

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--embedded", action="store_true", help="Measure the embedded model instead.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for --embedded.")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"], help="for --embedded.")
    args = parser.parse_args()
    if args.embedded:
        run_embedded(args.threads, args.dtype)
        return

    server, base_url = start_server(args.host, args.latency)
    figures: dict[str, float] = {}
    cpu_s: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as cache_dir:
            print(f"server {base_url}, latency {args.latency * 1000:.0f} ms, {args.requests} requests, "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            print(f"{'client':<11} {'conc.':>5} {'req/s':>8} {'ideal':>7} {'ratio':>6} {'cpu s':>6} {'cpu ms/req':>10} "
                  f"{'server cpu s':>12}")
            for concurrency in args.concurrency:
                ideal = concurrency / args.latency
                for name in ("toolkit", "baseline", "raw-aiohttp"):
                    server_cpu = process_cpu_s(server.pid)
                    if name == "toolkit":
                        wall, cpu, _stats = run_toolkit(base_url, concurrency, args.requests, cache_dir)
                    elif name == "baseline":
                        wall, cpu = run_baseline(base_url, concurrency, args.requests)
                    else:
                        wall, cpu = run_raw_aiohttp(base_url, concurrency, args.requests)
                    server_cpu = process_cpu_s(server.pid) - server_cpu
                    rate = args.requests / wall
                    key = {"toolkit": "ratio", "baseline": "baseline_ratio", "raw-aiohttp": "raw_aiohttp_ratio"}[name]
                    figures[f"{key}_{concurrency}"] = round(rate / ideal, 3)
                    cpu_s[f"{name}_{concurrency}"] = round(cpu, 2)
                    print(f"{name:<11} {concurrency:>5} {rate:>8.0f} {ideal:>7.0f} {rate / ideal:>6.2f} {cpu:>6.2f} "
                          f"{1000 * cpu / args.requests:>10.2f} {server_cpu:>12.2f}")
    finally:
        server.kill()
        server.wait()
    print(json.dumps({**figures, "client_cpu_s": cpu_s, "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
