"""Layout-guided decoding for transformers models (the embedded teacher, checkpoint distillers): a
``LogitsProcessor`` that keeps every row of a batched ``generate`` inside a ``layout.Layout``.

Per row it tracks where the reply is in the layout and masks the logits: forced text (and each option of a choice) is written
with the longest vocabulary tokens that fit; free text may use any token made of allowed characters, or one that starts the stop
string (which is then completed); a choice allows only tokens that continue an option; after the layout, only
EOS. A free segment is closed (its stop forced) when its token budget is spent or when the tokens left in
``max_new_tokens`` are just enough to write the rest of the layout, so the reply always ends inside the limit.
Token texts come from single-token decoding (exact for byte-level BPE vocabularies: SmolLM2, Qwen, Llama 3).
The masks of each free segment are computed once per tokenizer and cached.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixture_builder.teacher.layout import Choice, Layout, Lit, Segment


@dataclass
class _Vocab:
    """Token texts of a tokenizer and a text → token id map (specials excluded)."""

    texts: list[str]
    ids: dict[str, int]
    special: frozenset[int]


@functools.lru_cache(maxsize=4)
def _vocab(tokenizer: Any) -> _Vocab:
    special = frozenset(tokenizer.all_special_ids)
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], skip_special_tokens=False,
                                   clean_up_tokenization_spaces=False)
    ids: dict[str, int] = {}
    for index, text in enumerate(texts):
        if index not in special and text and "\ufffd" not in text:
            ids.setdefault(text, index)
    return _Vocab(texts=texts, ids=ids, special=special)


@dataclass
class _FreeMasks:
    """Blocked-token masks of one free segment: ``open`` once the text has a non-blank character, ``closed``
    before; ``nonblank``: all but content tokens with a non-blank character; ``entry``: token → where the stop
    starts."""

    open: Any
    closed: Any
    nonblank: Any
    entry: dict[int, int]


@functools.lru_cache(maxsize=32)
def _free_masks(tokenizer: Any, excluded: str, stop: str, size: int) -> _FreeMasks:
    import torch

    vocab = _vocab(tokenizer)
    plain, nonblank = torch.zeros(size, dtype=torch.bool), torch.zeros(size, dtype=torch.bool)
    entry_nonblank, entry_blank = torch.zeros(size, dtype=torch.bool), torch.zeros(size, dtype=torch.bool)
    entry: dict[int, int] = {}
    for index, text in enumerate(vocab.texts):
        if index in vocab.special or not text:
            continue
        cut = text.find(stop[0])
        head = text if cut < 0 else text[:cut]
        if any(c in excluded for c in head):
            continue
        if cut < 0:
            plain[index] = True
            nonblank[index] = bool(text.strip())
        elif stop.startswith(text[cut:]):
            entry[index] = cut
            (entry_nonblank if head.strip() else entry_blank)[index] = True
    return _FreeMasks(open=~(plain | entry_nonblank | entry_blank), closed=~(plain | entry_nonblank),
                      nonblank=~nonblank, entry=entry)


def _greedy(text: str, vocab: _Vocab) -> list[int]:
    """``text`` as the longest vocabulary tokens, left to right (forced text)."""
    tokens, start = [], 0
    while start < len(text):
        end = next((e for e in range(len(text), start, -1) if text[start:e] in vocab.ids), None)
        if end is None:
            raise ValueError(f"the vocabulary cannot write {text[start:]!r}")
        tokens.append(vocab.ids[text[start:end]])
        start = end
    return tokens


@dataclass
class _Row:
    """Where one reply is: its layout's segments (``None``: unconstrained) and the tokens each one's rest needs,
    the current segment, characters written of a forced text/stop/choice, free-text tokens."""

    segments: tuple[Segment, ...] | None
    tail: list[int]
    segment: int = 0
    written: str = ""
    in_stop: bool = False
    tokens: int = 0
    nonblank: bool = False


class LayoutLogitsProcessor:
    """Masks logits so each row's continuation after ``prompt_length`` follows its layout (one for all rows, or
    one per row, ``None`` leaving a row unconstrained) and ends within ``max_new_tokens``; greedy or sampled,
    no beams."""

    def __init__(self, tokenizer: Any, layouts: Layout | Sequence[Layout | None], prompt_length: int,
                 max_new_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.vocab = _vocab(tokenizer)
        self.layouts = layouts
        self.prompt_length = prompt_length
        self.max_new_tokens = max_new_tokens
        self.eos = tokenizer.eos_token_id
        self.rows: list[_Row] = []
        self.seen = 0
        self.size = len(self.vocab.texts)
        self._tails: dict[Layout, list[int]] = {}

    def _row(self, layout: Layout | None) -> _Row:
        if layout is None:
            return _Row(segments=None, tail=[])
        if layout not in self._tails:
            costs = [self._cost(segment) for segment in layout.segments]
            self._tails[layout] = [sum(costs[i + 1:]) + 1 for i in range(len(costs))]  # + EOS
        return _Row(segments=layout.segments, tail=self._tails[layout])

    def _cost(self, segment: Segment) -> int:
        if isinstance(segment, Lit):
            return len(_greedy(segment.text, self.vocab))
        if isinstance(segment, Choice):
            return max(len(_greedy(option, self.vocab)) for option in segment.options)
        return 1 + len(_greedy(segment.stop, self.vocab))

    # ------------------------------------------------------------------ transformers entry point
    def __call__(self, input_ids: Any, scores: Any) -> Any:
        generated = input_ids.shape[1] - self.prompt_length
        if not self.rows:
            batch = input_ids.shape[0]
            layouts = [self.layouts] * batch if isinstance(self.layouts, Layout) else list(self.layouts)
            if len(layouts) != batch:
                raise ValueError(f"{len(layouts)} layouts for a batch of {batch} rows")
            self.rows = [self._row(layout) for layout in layouts]
            self.size = scores.shape[-1]
        for step in range(self.seen, generated):
            for row, token in zip(self.rows, input_ids[:, self.prompt_length + step].tolist()):
                self._advance(row, int(token))
        self.seen = generated
        left = self.max_new_tokens - generated
        scores = scores.clone()
        for index, row in enumerate(self.rows):  # in place, row by row: no (batch, vocab) mask is built
            allowed = self._allowed(row, left)
            if allowed is None:
                continue
            if isinstance(allowed, list):
                kept = scores[index, allowed]
                scores[index] = float("-inf")
                scores[index, allowed] = kept
            else:
                scores[index].masked_fill_(allowed.to(scores.device), float("-inf"))
        return scores

    # ------------------------------------------------------------------ state machine
    def _allowed(self, row: _Row, left: int) -> list[int] | Any | None:
        """The allowed token ids, or a mask of the blocked ones, or ``None`` (anything goes)."""
        if row.segments is None:
            return None
        if row.segment >= len(row.segments):
            return [self.eos]
        segment = row.segments[row.segment]
        if isinstance(segment, Lit):
            return _greedy(segment.text[len(row.written):], self.vocab)[:1]
        if isinstance(segment, Choice):
            # each option in its longest-token spelling, so its cost is known; the model picks among first tokens
            return sorted({_greedy(o[len(row.written):], self.vocab)[0] for o in segment.options
                           if o.startswith(row.written) and o != row.written})
        if row.in_stop:
            return _greedy(segment.stop[len(row.written):], self.vocab)[:1]
        masks = _free_masks(self.tokenizer, segment.excluded, segment.stop, self.size)
        reserve = row.tail[row.segment] + len(_greedy(segment.stop, self.vocab))
        spent = segment.budget is not None and row.tokens >= segment.budget
        if not row.nonblank:
            return masks.nonblank if spent or left <= reserve + 1 else masks.closed
        if spent or left <= reserve:
            return _greedy(segment.stop, self.vocab)[:1]
        return masks.open

    def _advance(self, row: _Row, token: int) -> None:
        if row.segments is None or row.segment >= len(row.segments):
            return
        segment, text = row.segments[row.segment], self.vocab.texts[token]
        if isinstance(segment, Lit):
            row.written += text
            done = row.written == segment.text
        elif isinstance(segment, Choice):
            row.written += text
            done = row.written in segment.options
        elif row.in_stop:
            row.written += text
            done = row.written == segment.stop
        else:
            cut = _free_masks(self.tokenizer, segment.excluded, segment.stop, self.size).entry.get(token)
            head = text if cut is None else text[:cut]
            row.tokens += 1
            row.nonblank = row.nonblank or bool(head.strip())
            if cut is not None:
                row.in_stop, row.written = True, text[cut:]
            done = row.in_stop and row.written == segment.stop
        if done:
            row.segment, row.written, row.in_stop, row.tokens, row.nonblank = row.segment + 1, "", False, 0, False
