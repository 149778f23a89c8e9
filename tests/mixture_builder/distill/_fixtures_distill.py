"""Test helpers of the distill tests: a scripted OpenAI-compatible teacher (rater + distiller) and configs."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from mixture_builder.mixture_format import SYSTEM_PROMPT

_ITEM = re.compile(r"^Q: (.*?)\n A: (.*?)(?=\n\nQ: |\Z)", re.DOTALL | re.MULTILINE)


def _digest(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def is_distill_request(request: dict[str, Any]) -> bool:
    messages = request.get("messages", [])
    return bool(messages) and messages[0].get("role") == "system" and messages[0].get("content") == SYSTEM_PROMPT


def cluster_of(request: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(question, answer)`` items of a distill request's cluster."""
    return _ITEM.findall(request["messages"][-1]["content"])


MARK = "Merged answer:"


def rating_reply(request: dict[str, Any]) -> str:
    """A rater reply, deterministic per sample: distilled samples (marked) mostly rate 8 (quality 4), one in
    four 3 (quality 0); pool samples spread over 3..9 (quality 0..5) by a hash of the prompt."""
    text = "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user")
    if MARK in text:
        overall = 3 if _digest(text) % 4 == 0 else 8
    else:
        overall = (3, 4, 5, 6, 7, 8, 9)[_digest(text) % 7]
    return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": overall})


def distill_reply(request: dict[str, Any]) -> str:
    """A distiller reply: every fifth cluster (by content) gets an unusable answer; the others merge their
    items into one long Q/A pair, so re-rating keeps them."""
    items = cluster_of(request)
    if not items:
        return "I cannot help with that."
    if _digest(request["messages"][-1]["content"]) % 5 == 0:
        return "Here is the merged sample without the required tags."
    question = items[0][0].strip()
    answer = MARK + " " + " ".join(a.strip().replace("\n", " ") for _, a in items)[:600]
    return (f"<think>The {len(items)} samples share a topic; keep the clearest question.</think>\n"
            f"<answer>Q: {question}\n A: {answer.strip()}</answer>")


def scripted_teacher(request: dict[str, Any]) -> str:
    """The FakeOpenAIServer responder used by the distill tests."""
    return distill_reply(request) if is_distill_request(request) else rating_reply(request)


def real_pool_config(raw_dir: Path, out: Path, base_url: str, *, limit: int = 120, **overrides: Any) -> dict:
    """A config dict over a few hundred rows of Alpaca + Dolly with the fake endpoint as rater and distiller."""
    teacher = {"backend": "openai", "base_url": base_url, "model": "scripted", "max_retries": 1,
               "cache_path": str(out.parent / f"{out.name}-cache.sqlite"), "progress": False}
    config: dict[str, Any] = {
        "output": str(out),
        "pools": [{"path": str(raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json"), "limit": limit},
                  {"path": str(raw_dir / "dolly_alpagasus_3k" / "dolly_3k.shared.json"), "limit": limit}],
        "scoring": {"score_column": None, "rater": teacher},
        "clustering": {"capacity": {"min_size": 2, "max_size": 12, "mean": 6, "std": 2}},
        "distiller": {"teacher": teacher, "max_new_tokens": 512},
        "report": True,
    }
    for key, value in overrides.items():
        config[key] = value
    return config


def load_train(folder: str | Path):
    """``load_dataset(folder, split="train")``, as a user loads the output folder."""
    from datasets import load_dataset

    return load_dataset(str(folder), split="train")
