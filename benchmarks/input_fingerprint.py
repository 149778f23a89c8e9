"""Cost of fingerprinting a job's inputs: size+mtime only, and with the xxh3 content hash.

    python benchmarks/input_fingerprint.py [PATH ...] [--repeats 3]

Default PATH: ``../shared/data/raw`` (the real raw data). Each mode runs ``--repeats`` times (best kept; the
first content pass also warms the page cache, so the figure is the warm-cache rate). Last line: one JSON
object with the bytes, files, seconds per mode and the hashing rate in GB/s, which sizes
``AUTO_HASH_MAX_BYTES``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mixture_builder.input_fingerprint import input_fingerprint

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


def best_time(paths: list[str], mode: str, repeats: int) -> tuple[float, dict]:
    best, record = float("inf"), {}
    for _ in range(repeats):
        start = time.perf_counter()
        record = input_fingerprint(paths, content_hash=mode)
        best = min(best, time.perf_counter() - start)
    return best, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=[str(RAW)])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    stat_s, record = best_time(args.paths, "never", args.repeats)
    hash_s, _ = best_time(args.paths, "always", args.repeats)
    sizes = [f["size"] for r in record.values() for f in r.get("files", {}).values()]
    total = sum(sizes)
    print(f"{len(sizes)} files, {total / 1e6:.1f} MB")
    print(f"size+mtime: {stat_s * 1e3:.1f} ms   with xxh3: {hash_s * 1e3:.1f} ms   "
          f"({total / hash_s / 1e9:.2f} GB/s)")
    print(json.dumps({"files": len(sizes), "bytes": total, "stat_s": round(stat_s, 4), "hash_s": round(hash_s, 4),
                      "hash_gb_per_s": round(total / hash_s / 1e9, 2)}))


if __name__ == "__main__":
    main()
