"""Synthetic report views (no distill run): clusters of Alpaca-sized samples in every status, for report tests."""

from __future__ import annotations

import random
from typing import Any

from mixture_builder.distill.report_html import STATUSES

_VOCABULARY = ("the model data answer question write explain list three reasons why how function return value "
          "python code example summary history city river science energy light water people language book "
          "number result table step first second finally because however therefore simple clear short long "
          "describe compare translate classify sentence paragraph poem story email letter recipe plan")


def synthetic_views(n: int, seed: int = 0, sources: tuple[str, ...] = ("alpaca", "dolly", "oasst")) -> list[dict[str, Any]]:
    """``n`` cluster views: 2-10 members each, prompts of ~10-60 words and outputs of ~20-300 words."""
    rng = random.Random(seed)
    text = rng.choices(_VOCABULARY.split(), k=200_000)

    def words(lo: int, hi: int) -> str:
        start, k = rng.randrange(len(text) - hi), rng.randint(lo, hi)
        return " ".join(text[start:start + k])

    views = []
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        source = sources[i % len(sources)]
        members = [{"id": f"{source}/{i}-{j}", "quality": rng.randint(0, 2), "prompt": words(10, 60),
                    "output": words(20, 300)} for j in range(rng.randint(2, 10))]
        view: dict[str, Any] = {"id": f"cluster/{source}/{i:06d}", "source": source, "status": status,
                                "members": members}
        if status == "rejected":
            view.update(reason="bad_format", completion=words(50, 200))
        else:
            view.update(quality=None if status == "unrated" else rng.randint(0, 5),
                        long_tail=rng.random() if status in ("selected", "not selected") else None,
                        instruction=words(10, 60), output=words(50, 400), think=words(10, 40))
        views.append(view)
    return views
