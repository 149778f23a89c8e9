"""The held-out metric: mean per-token negative log-likelihood of reference responses given their prompts.

It moves at toy scale, where benchmark accuracies sit at chance. The held-out examples (e.g. LIMA, or the
top-ranked OASST replies) are read with the project's readers; the job removes them from every candidate
(:func:`~lm_mixup_train.downstream.candidates.load_candidate`), so no candidate trains on what is scored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mixture_builder.distill.select import chat_messages
from mixture_builder.errors import InputError
from mixture_builder.readers import read_records

from .candidates import Example, text_key
from .config import HeldoutSettings


def load_heldout(settings: HeldoutSettings) -> list[Example]:
    """The first ``n`` instruction records with a response (OASST: only rank-0 replies)."""
    examples: list[Example] = []
    for doc in read_records(settings.path, format=settings.format, on_error="skip"):
        meta = doc.metadata
        signals = meta.get("quality_signals") or {}
        if isinstance(signals, dict) and signals.get("rank") not in (None, 0):
            continue
        instruction, output = str(meta.get("instruction") or ""), str(meta.get("output") or "")
        if instruction.strip() and output.strip():
            chat = chat_messages(instruction, str(meta.get("input") or ""), output)
            examples.append(Example(chat[:-1], chat[-1:]))
        if len(examples) >= settings.n:
            break
    if not examples:
        raise InputError("no instruction records with a response", path=settings.path, field="heldout.path",
                         fix="point heldout.path at LIMA, OASST or any instruction data")
    return examples


def heldout_keys(examples: list[Example]) -> set[str]:
    """Normalised prompts and responses of the held-out examples (what candidates must not contain)."""
    return {text_key(e.prompt_text) for e in examples} | {text_key(e.response_text) for e in examples}


def heldout_digest(examples: list[Example], settings: HeldoutSettings) -> str:
    payload = json.dumps([[e.as_row() for e in examples], settings.max_length], sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def encode(tokenizer: Any, example: Example, max_length: int) -> tuple[list[int], int]:
    """``(token ids, index of the first response token)``; the response tail is cut to fit ``max_length``."""
    prompt = tokenizer.apply_chat_template(example.prompt, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(example.prompt + example.completion, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    start = len(prompt_ids)
    if full_ids[:start] != prompt_ids:  # the template does not extend the prompt token-wise: split on text
        start = len(tokenizer(full[: len(prompt)], add_special_tokens=False)["input_ids"])
    if start >= max_length - 1:  # keep the prompt's end and at least a few response tokens
        cut = start - (max_length // 2)
        full_ids, start = full_ids[cut:], start - cut
    return full_ids[:max_length], start


def nll_rows(model: Any, tokenizer: Any, examples: list[Example], settings: HeldoutSettings) -> list[dict[str, Any]]:
    """Per example: mean NLL per response token (``score``) and the token count (``weight``)."""
    import torch

    encoded = [encode(tokenizer, e, settings.max_length) for e in examples]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows: list[dict[str, Any]] = []
    model.eval()
    device = next(model.parameters()).device
    for offset in range(0, len(encoded), settings.batch_size):
        batch = encoded[offset: offset + settings.batch_size]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (tokens, start) in enumerate(batch):
            ids[i, : len(tokens)] = torch.tensor(tokens)
            mask[i, : len(tokens)] = 1
            labels[i, start: len(tokens)] = torch.tensor(tokens[start:])
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        targets = labels[:, 1:].to(device)
        losses = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), targets, ignore_index=-100,
                                                   reduction="none")
        counts = (targets != -100).sum(dim=1)
        for i in range(len(batch)):
            n = int(counts[i])
            if n:
                rows.append({"group": "heldout", "doc_id": offset + i, "score": float(losses[i].sum()) / n,
                             "weight": n})
    return rows
