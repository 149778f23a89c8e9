"""Token budgets of the demo configs, measured on the demo data with the embedded model's tokenizer.

    python benchmarks/demo_budgets.py [--build-output demo-output/mixture] [--distilled distilled]

Distillation (``configs/distill_demo.yaml``): the distilled answer is one ``Q: … A: …`` item, so its allowance
is the 90th percentile of the demo pool's items; the reasoning budget is the median item (reasoning about as
long as a typical sample); ``max_new_tokens`` adds the layout's fixed text. With ``--distilled``, the think and
answer lengths of a finished run's completions are reported too. Build (``configs/build_demo.yaml``): a reply's
REASONING is one sentence, so its budget is the 90th percentile of the demo passages' sentences; ``max_tokens``
holds a two-line sample (question and answer, statement and verdict, …) and the reasoning, each a p90
sentence, plus the labels. With ``--build-output``, the written targets' samples and reasoning are measured.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
from pathlib import Path

from mixture_builder.distill.config import demo_pool_path
from mixture_builder.distill.parse import sample_prompt
from mixture_builder.generate.config import DEMO_SOURCE, SourceConfig
from mixture_builder.mixture_format import format_qa_item, parse_completion
from mixture_builder.teacher.embedded import embedded_model_dir


def percentiles(values: list[int]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {}
    cut = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
    return {"n": len(values), "p50": cut[4], "p90": cut[8], "max": values[-1]}


def jsonl_rows(location: Path) -> list[dict]:
    rows = []
    for path in [location] if location.is_file() else sorted(location.rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-output", type=Path)
    parser.add_argument("--distilled", type=Path, help="output folder of an `lm-mixup distill` run")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    items = [count(format_qa_item(sample_prompt(r["instruction"], r.get("input", "")), r["output"]))
             for r in jsonl_rows(demo_pool_path())]
    item = percentiles(items)
    overhead = count("<think></think>\n\n<answer></answer>")
    think, answer = round(item["p50"]), round(item["p90"])
    figures: dict = {"pool_item_tokens": item, "layout_tokens": overhead,
                     "distill": {"think_budget": think, "max_new_tokens": think + answer + overhead}}
    sentences = [count(s) for row in jsonl_rows(SourceConfig(path=DEMO_SOURCE).resolved_path)
                 for s in re.split(r"(?<=[.!?])\s+", row.get("text", "")) if s.strip()]
    sentence = percentiles(sentences)
    labels = count("QUESTION: \nANSWER: \nREASONING: \n")
    figures["passage_sentence_tokens"] = sentence
    figures["build"] = {"reasoning_budget": round(sentence["p90"]),
                        "max_tokens": round(3 * sentence["p90"]) + labels}
    if args.distilled:
        thinks, answers = [], []
        for row in jsonl_rows(args.distilled / ".lm-mixup"):
            parsed = parse_completion(row.get("metadata", {}).get("completion") or "")
            if parsed:
                thinks.append(count(parsed.think))
                answers.append(count(parsed.answer))
        figures["distilled_run"] = {"think_tokens": percentiles(thinks), "answer_tokens": percentiles(answers)}
    if args.build_output:
        targets = [r for r in jsonl_rows(args.build_output) if r.get("output")]
        figures["build_targets"] = {"sample_tokens": percentiles([count(r["output"]) for r in targets]),
                                    "reasoning_tokens": percentiles([count(r.get("cot") or "") for r in targets])}
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
