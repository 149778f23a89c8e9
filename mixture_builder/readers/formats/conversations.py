"""Conversation formats: ShareGPT (``conversations`` of ``from``/``value``), OpenAI ``messages``
(``role``/``content``), LIMA-style lists of alternating strings, and OASST1 message trees.

A conversation becomes one instruction sample: its first user turn and the assistant reply to it are
``instruction``/``output``; the whole normalised conversation stays in ``metadata["messages"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from datatrove.data import Document

from mixture_builder.errors import InputError
from mixture_builder.readers.formats.base import (
    RecordFormat,
    Skipped,
    Where,
    get_text,
    lookup,
    require_mapping,
    split_signals,
)
from mixture_builder.readers.source_file import SourceFile

ROLES = {
    "human": "user",
    "user": "user",
    "prompter": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "bot": "assistant",
    "system": "system",
}
TURN_KEYS = {"sharegpt": ("from", "value"), "messages": ("role", "content")}


class ConversationFormat(RecordFormat):
    """ShareGPT / ``messages`` / LIMA conversations (the layout of each is detected per record)."""

    name = "conversation"
    signature = ("conversations",)

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "a 'conversations' or 'messages' list")
        key = lookup(record, ("conversations", "messages", "conversation"))
        if key is None:
            raise where.error(
                "required field 'conversations' is missing",
                field="conversations",
                reason="missing_field",
                fix="give every record a 'conversations' (or 'messages') list",
            )
        messages = self.normalise(record[key], where, str(key))
        instruction, output = first_exchange(messages, where, str(key))
        signals, extra = split_signals(record, [key, lookup(record, ("id",))])
        yield self.instruction(
            where,
            source_id=record.get(lookup(record, ("id",)) or "id"),
            instruction=instruction,
            output=output,
            messages=messages,
            quality_signals=signals,
            **({"extra": extra} if extra else {}),
        )

    @staticmethod
    def normalise(turns: Any, where: Where, field: str) -> list[dict[str, str]]:
        """``[{"role", "content"}, …]`` from any of the three layouts."""
        if not isinstance(turns, list) or not turns:
            raise where.error(
                f"field '{field}' must be a non-empty list of turns",
                field=field,
                reason="empty_field" if turns == [] else "wrong_type",
                fix="write the conversation as a list of turns",
            )
        if all(isinstance(turn, str) for turn in turns):  # LIMA: alternating user / assistant strings
            return [
                {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)
            ]
        messages = []
        for number, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise where.error(
                    f"turn {number} is a {type(turn).__name__}, expected an object",
                    field=f"{field}[{number}]",
                    reason="wrong_shape",
                    fix="write turns as {from, value} or {role, content} objects",
                )
            role_key, text_key = TURN_KEYS["sharegpt"] if "from" in turn else TURN_KEYS["messages"]
            role = str(turn.get(role_key, "")).lower()
            if role not in ROLES:
                raise where.error(
                    f"turn {number} has unknown role {turn.get(role_key)!r}",
                    field=f"{field}[{number}].{role_key}",
                    reason="wrong_value",
                    fix=f"use one of {sorted(ROLES)}",
                )
            content = turn.get(text_key)
            if not isinstance(content, str):
                raise where.error(
                    f"turn {number} has no text in '{text_key}'",
                    field=f"{field}[{number}].{text_key}",
                    reason="missing_field" if content is None else "wrong_type",
                    fix="give every turn its text as a string",
                )
            messages.append({"role": ROLES[role], "content": content})
        return messages


def first_exchange(messages: list[dict[str, str]], where: Where, field: str) -> tuple[str, str]:
    """The first user turn with text and the first assistant reply after it."""
    for position, message in enumerate(messages):
        if message["role"] == "user" and message["content"].strip():
            for reply in messages[position + 1 :]:
                if reply["role"] == "assistant" and reply["content"].strip():
                    return message["content"], reply["content"]
            break
    raise where.error(
        "conversation has no user turn followed by a non-empty assistant reply",
        field=field,
        reason="empty_field",
        fix="drop conversations without an answered user turn",
    )


class OasstFormat(RecordFormat):
    """OASST1 message rows (``message_id``, ``parent_id``, ``role``, ``text``, …): every assistant reply to a
    prompter message becomes one sample (``source_id`` = its ``message_id``), with the thread from the tree's
    root in ``messages`` and its human ratings in ``quality_signals``: ``rank`` among siblings (0 = best),
    ``labels`` (name → mean value), ``emojis`` (name → count), ``review_result``, ``deleted``, ``synthetic``,
    ``detoxify``. Replies whose parent is not in the file are counted (``skipped_orphan_reply``) and not emitted."""

    name = "oasst"
    signature = ("message_id", "parent_id", "role", "text")
    SIGNALS = ("rank", "review_result", "review_count", "deleted", "synthetic", "detoxify")

    def documents(self, file: SourceFile) -> Iterator[Document | InputError | Skipped]:
        rows: dict[str, tuple[dict, Where]] = {}
        order: list[str] = []
        for item in file.records():
            if isinstance(item, InputError):
                yield item
                continue
            where = Where(file, item.index, item.line)
            try:
                row = require_mapping(item.value, where, "OASST message fields")
                message_id = get_text(row, ("message_id",), where)
                get_text(row, ("text",), where)
                if str(row.get("role")) not in ("prompter", "assistant"):
                    raise where.error(
                        f"unknown role {row.get('role')!r}",
                        field="role",
                        reason="wrong_value",
                        fix="OASST roles are 'prompter' and 'assistant'",
                    )
            except InputError as error:
                yield error
                continue
            rows[message_id] = (row, where)
            order.append(message_id)
        for message_id in order:
            row, where = rows[message_id]
            if row["role"] != "assistant":
                continue
            parent = rows.get(_key(row.get("parent_id")))
            if parent is None or parent[0]["role"] != "prompter":
                yield Skipped("orphan_reply")
                continue
            yield self.checked(self._sample(row, parent[0], rows, where), where)

    def _sample(self, row: dict, parent: dict, rows: dict, where: Where) -> Document:
        thread = [row]
        cursor, seen = parent, {_key(row["message_id"])}
        while cursor is not None and _key(cursor["message_id"]) not in seen:
            seen.add(_key(cursor["message_id"]))
            thread.append(cursor)
            cursor = rows.get(_key(cursor.get("parent_id")), (None,))[0]
        messages = [{"role": ROLES[m["role"]], "content": m["text"]} for m in reversed(thread)]
        signals: dict[str, Any] = {key: row[key] for key in self.SIGNALS if row.get(key) is not None}
        for key, value_name in (("labels", "value"), ("emojis", "count")):
            table = row.get(key) or {}
            if isinstance(table, dict) and isinstance(table.get("name"), list):
                signals[key] = dict(zip(table["name"], table.get(value_name) or []))
        return self.instruction(
            where,
            source_id=row["message_id"],
            instruction=parent["text"],
            output=row["text"],
            messages=messages,
            quality_signals=signals,
            parent_id=row.get("parent_id"),
            message_tree_id=row.get("message_tree_id"),
            lang=row.get("lang"),
        )


def _key(message_id: Any) -> str:
    """Message ids as dictionary keys (``None`` → ``""``; numbers and strings compare as text)."""
    return "" if message_id is None else str(message_id)
