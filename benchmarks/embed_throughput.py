"""Embedding throughput of lm-mixup against plain ``SentenceTransformer.encode`` on the same texts.

    python benchmarks/embed_throughput.py [--n 500] [--batch-size 64] [--repeats 5] [--model PATH]

Texts: instruction+input+output of real Alpaca records from ``../shared/data/raw`` (synthetic sentences when
that folder is absent). Runs, interleaved ``--repeats`` times in rotating order (best time of each kept, to
damp the noise of a shared machine): plain ``model.encode(texts, batch_size)``, :func:`embed_texts`, and
:class:`EmbedStep` over the documents (writing its shard to a temporary folder). Last line: one JSON object whose ``ratio`` is the
throughput of the slower lm-mixup path divided by the plain one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mixture_builder.clustering.embeddings import embed_texts, embedding_text, load_embedder
from mixture_builder.clustering.steps import EmbedStep
from mixture_builder.records import make_instruction

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


def documents(n: int) -> list:
    path = RAW / "stanford_alpaca" / "alpaca_5000.shared.json"
    if path.exists():
        rows = json.loads(path.read_text())[:n]
    else:
        rows = [{"instruction": f"Describe item number {i} in a sentence.", "input": "",
                 "output": f"Item {i} is a small example sentence used for timing."} for i in range(n)]
    return [make_instruction(instruction=r["instruction"], input=r.get("input", ""), output=r["output"],
                             source="alpaca", license="cc-by-nc-4.0", source_id=i) for i, r in enumerate(rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default=None, help="sentence-transformers model path (default: MiniLM)")
    args = parser.parse_args()

    docs = documents(args.n)
    texts = [embedding_text(d) for d in docs]
    model = load_embedder(args.model)
    model.encode(texts[:64], batch_size=args.batch_size)  # warm-up

    def plain() -> None:
        model.encode(texts, batch_size=args.batch_size, show_progress_bar=False)

    def ours() -> None:
        embed_texts(texts, args.model, args.batch_size, show_progress=False)

    def step() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in EmbedStep(tmp, model_name=args.model, batch_size=args.batch_size).run(iter(docs)):
                pass

    runs = [("plain", plain), ("embed_texts", ours), ("EmbedStep", step)]
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    for r in range(args.repeats):
        for name, fn in runs[r % 3:] + runs[:r % 3]:  # rotate the order: no method always runs first
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name:12s} best {best[name]:7.2f} s  {len(texts) / best[name]:8.1f} texts/s   all: "
              + " ".join(f"{v:.2f}" for v in values))
    ratios = {name: best["plain"] / best[name] for name in ("embed_texts", "EmbedStep")}
    print(f"throughput vs plain encode: embed_texts {ratios['embed_texts']:.3f}, EmbedStep {ratios['EmbedStep']:.3f}")
    print(json.dumps({"ratio": round(min(ratios.values()), 4), "embed_texts_ratio": round(ratios["embed_texts"], 4),
                      "embed_step_ratio": round(ratios["EmbedStep"], 4), "texts": len(texts),
                      "plain_texts_per_s": round(len(texts) / best["plain"], 1)}))


if __name__ == "__main__":
    main()
