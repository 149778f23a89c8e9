"""Reward throughput: seconds to score one batch of 64 completions (16 prompts × 4) with the format, alignment
and quality rewards on CPU, and the share of that time spent embedding.

Completions and the quality library come from real instruction data in ../shared/data/raw (AlpaGasus:
`claude_t45.json` samples rated ≥ 4.5 → score 5, other `random_9k.json` samples → score 2) when present,
otherwise from generated sentences. The library is built once (not timed); scoring is timed over --repeats
batches after one warm-up batch (model loading). Last line: {"seconds_per_64": …, "embed_share": …}.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw" / "alpagasus"


def rated_samples(n: int, seed: int = 0) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """``n`` rated library texts and a pool of (instruction, answer) pairs for completions."""
    from mixture_builder.mixture_format import format_qa_item

    rng = random.Random(seed)
    if RAW.is_dir():
        high = json.loads((RAW / "claude_t45.json").read_text())
        high_keys = {r["instruction"] for r in high}
        rest = [r for r in json.loads((RAW / "random_9k.json").read_text()) if r["instruction"] not in high_keys]
        rng.shuffle(high), rng.shuffle(rest)
        library = [(format_qa_item(r["instruction"], r["output"]), 5) for r in high[: n // 2]]
        library += [(format_qa_item(r["instruction"], r["output"]), 2) for r in rest[: n - n // 2]]
        pool = [(r["instruction"], r["output"]) for r in high[n // 2 : n // 2 + 64] + rest[n:n + 64]]
        return library, pool
    words = ["river", "mountain", "castle", "planet", "forest", "library", "harbour", "desert", "glacier", "volcano"]
    texts = [" ".join(rng.choices(words, k=30)) for _ in range(n + 128)]
    return [(t, rng.randint(0, 5)) for t in texts[:n]], [(f"Describe {t[:20]}", t) for t in texts[n:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from lm_mixup_train import embedding
    from lm_mixup_train.rewards import AlignmentReward, FormatReward, QualityReward
    from lm_mixup_train.rewards.quality_library import QualityLibrary, build_library
    from mixture_builder.mixture_format import format_completion, format_qa_item

    library_rows, pool = rated_samples(args.library_size)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        build_library(library_rows, source="benchmark").save(Path(tmp) / "lib")
        library = QualityLibrary.load(Path(tmp) / "lib")
        print(f"library: {len(library.texts)} texts, built in {time.perf_counter() - start:.1f} s")
        rng = random.Random(1)
        rewards = [FormatReward(), AlignmentReward(), QualityReward(Path(tmp) / "lib.npz")]

        def batch() -> dict:
            prompts = rng.sample(pool, 16)
            completions, outputs, tasks = [], [], []
            for instruction, answer in prompts:
                for variant in range(4):
                    text = answer if variant < 2 else answer[: len(answer) // 2]  # some shortened answers
                    completions.append(format_completion("merge the samples", format_qa_item(instruction, text)))
                    outputs.append(format_qa_item(instruction, answer))
                    tasks.append("qa_mixup")
            return {"prompts": [None] * 64, "completions": completions, "output": outputs, "task_type": tasks}

        for reward in rewards:  # warm-up: loads the embedding model and the k-NN index
            reward(**batch())
        embedding.stats.reset()
        per_reward = {reward.__name__: 0.0 for reward in rewards}
        start = time.perf_counter()
        for _ in range(args.repeats):
            inputs = batch()
            for reward in rewards:
                t0 = time.perf_counter()
                reward(**inputs)
                per_reward[reward.__name__] += time.perf_counter() - t0
        total = (time.perf_counter() - start) / args.repeats
    embed_share = embedding.stats.seconds / args.repeats / total
    for name, seconds in per_reward.items():
        print(f"{name:<18} {seconds / args.repeats * 1000:8.1f} ms per 64")
    print(f"all three rewards  {total * 1000:8.1f} ms per 64; embedding {embed_share:.0%} of it")
    print(json.dumps({"seconds_per_64": round(total, 4), "embed_share": round(embed_share, 3),
                      "library_size": len(library.texts), "threads": args.threads}))


if __name__ == "__main__":
    main()
