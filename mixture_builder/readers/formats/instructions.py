"""Single-turn instruction formats: Alpaca/Dolly/GPTeacher, Self-Instruct tasks, GSM8K, prompt/completion
(T0/P3 templates), prompt-only evaluation sets, and CaR expert-revision CSV pairs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from datatrove.data import Document

from mixture_builder.readers.formats.base import (
    RecordFormat,
    Where,
    get_text,
    lookup,
    require_mapping,
    split_signals,
)

INSTRUCTION_KEYS = ("instruction",)
INPUT_KEYS = ("input", "context")
OUTPUT_KEYS = ("output", "response")
END_MARKERS = ("<|endoftext|>", "</s>", "<|im_end|>", "<|eot_id|>")


def _own_id(record: dict, *keys: str) -> Any:
    key = lookup(record, keys)
    return None if key is None else record[key]


class AlpacaFormat(RecordFormat):
    """``instruction`` / ``input`` / ``output`` records; also Dolly (``context``/``response``), GPTeacher
    (``response``) and LLaMA-Factory's ``history`` (earlier turns as ``[user, assistant]`` pairs) + ``system``."""

    name = "alpaca"
    signature = ("instruction", "output")

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "'instruction' and 'output' fields")
        instruction = get_text(record, INSTRUCTION_KEYS, where)
        input_text = get_text(record, INPUT_KEYS, where, required=False)
        output = get_text(record, OUTPUT_KEYS, where, allow_empty=not self.options.require_output)
        used = [
            lookup(record, keys)
            for keys in (INSTRUCTION_KEYS, INPUT_KEYS, OUTPUT_KEYS, ("history",), ("system",), ("id",))
        ]
        messages = self._messages(record, where, instruction, input_text, output)
        signals, extra = split_signals(record, [k for k in used if k])
        fields: dict[str, Any] = {"extra": extra} if extra else {}
        yield self.instruction(
            where,
            source_id=_own_id(record, "id"),
            instruction=instruction,
            input=input_text,
            output=output,
            messages=messages,
            quality_signals=signals,
            **fields,
        )

    @staticmethod
    def _messages(record: dict, where: Where, instruction: str, input_text: str, output: str):
        history_key, system_key = lookup(record, ("history",)), lookup(record, ("system",))
        history = record.get(history_key) if history_key else None
        system = record.get(system_key) if system_key else None
        if not history and not system:
            return None
        messages = [{"role": "system", "content": str(system)}] if system else []
        for turn_index, turn in enumerate(history or []):
            if not (
                isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, str) for t in turn)
            ):
                raise where.error(
                    f"history turn {turn_index} is not a [user, assistant] pair of strings",
                    field="history",
                    fix="write history as a list of [user, assistant] string pairs",
                    reason="wrong_shape",
                )
            messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
        user = f"{instruction}\n\n{input_text}" if input_text.strip() else instruction
        return messages + [{"role": "user", "content": user}, {"role": "assistant", "content": output}]


class SelfInstructFormat(RecordFormat):
    """Self-Instruct tasks: ``instruction`` + ``instances`` (a list of ``{input, output}``); one record per instance."""

    name = "self_instruct"
    signature = ("instruction", "instances")

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "'instruction' and 'instances' fields")
        instruction = get_text(record, INSTRUCTION_KEYS, where)
        instances = record.get(lookup(record, ("instances",)) or "instances")
        if not isinstance(instances, list) or not instances:
            raise where.error(
                "field 'instances' must be a non-empty list of {input, output} objects",
                field="instances",
                fix="give every task at least one instance",
                reason="empty_field" if instances == [] else "wrong_type",
            )
        task_id = _own_id(record, "id") or where.default_id()
        signals, extra = split_signals(
            record, [lookup(record, k) for k in (("instruction",), ("instances",), ("id",))]
        )
        docs = []
        for number, instance in enumerate(instances):
            instance = require_mapping(instance, where, "'input' and 'output' fields (in 'instances')")
            docs.append(
                self.instruction(
                    where,
                    source_id=task_id if len(instances) == 1 else f"{task_id}:{number}",
                    instruction=instruction,
                    input=get_text(instance, INPUT_KEYS, where, required=False),
                    output=get_text(
                        instance, OUTPUT_KEYS, where, allow_empty=not self.options.require_output
                    ),
                    quality_signals=signals,
                    **({"extra": extra} if extra else {}),
                )
            )
        return docs


class Gsm8kFormat(RecordFormat):
    """GSM8K ``question`` / ``answer`` (reasoning with ``<<calc>>`` notes, final answer after ``####``)."""

    name = "gsm8k"
    signature = ("question", "answer")

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "'question' and 'answer' fields")
        question = get_text(record, ("question",), where)
        answer = get_text(record, ("answer",), where, allow_empty=not self.options.require_output)
        final = answer.rsplit("####", 1)[1].strip() if "####" in answer else None
        yield self.instruction(
            where,
            source_id=_own_id(record, "id"),
            instruction=question,
            output=answer,
            **({"final_answer": final} if final is not None else {}),
        )


class PromptCompletionFormat(RecordFormat):
    """``prompt`` / ``completion`` pairs (T0/P3 templates, OpenAI fine-tuning files); end-of-text markers are cut."""

    name = "prompt_completion"
    signature = ("prompt", "completion")

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "'prompt' and 'completion' fields")
        prompt = get_text(record, ("prompt",), where).strip()
        completion = get_text(record, ("completion",), where, allow_empty=True)
        for marker in END_MARKERS:
            completion = completion.removesuffix(marker)
        if self.options.require_output and not completion.strip():
            raise where.error(
                "field 'completion' is empty once end-of-text markers are removed",
                field="completion",
                fix="give every record a non-empty completion",
                reason="empty_field",
            )
        yield self.instruction(
            where, source_id=_own_id(record, "id"), instruction=prompt, output=completion.strip()
        )


class PromptsFormat(RecordFormat):
    """Prompt-only evaluation sets (Koala, Vicuna, WizardLM, …): an instruction without a reference answer.
    ``output`` is empty and ``metadata["prompt_only"]`` is true, so later steps can tell them apart."""

    name = "prompts"
    signature = ("prompt",)
    PROMPT_KEYS = ("prompt", "instruction", "question", "text")
    ID_KEYS = ("id", "question_id", "idx")

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "a 'prompt' (or 'instruction') field")
        prompt_key = lookup(record, self.PROMPT_KEYS)
        prompt = get_text(record, self.PROMPT_KEYS, where)
        id_key = lookup(record, self.ID_KEYS)
        signals, extra = split_signals(record, [k for k in (prompt_key, id_key) if k])
        yield self.instruction(
            where,
            source_id=record[id_key] if id_key else None,
            instruction=prompt,
            output="",
            prompt_only=True,
            quality_signals=signals,
            **({"extra": extra} if extra else {}),
        )


class CarPairsFormat(RecordFormat):
    """CaR expert-revision pairs (CSV ``src`` / ``pos`` / ``neg``): ``src`` is ``Instruction: … [Input: …]``,
    ``pos`` the expert-revised response, ``neg`` the original one. ``pair_side`` picks ``pos`` (default),
    ``neg`` or ``both`` (two records, ``quality_signals.expert_revised`` telling which). Literal ``\\n`` become
    line breaks."""

    name = "car_pairs"
    signature = ("src", "pos", "neg")
    _SRC = re.compile(r"^\s*Instruction:\s*(?P<instruction>.*?)(?:\s+Input:\s*(?P<input>.*))?\s*$", re.DOTALL)

    def convert(self, record: Any, where: Where) -> Iterable[Document]:
        record = require_mapping(record, where, "'src', 'pos' and 'neg' fields")
        src = _unescape(get_text(record, ("src",), where))
        match = self._SRC.match(src)
        instruction, input_text = (
            (match["instruction"].strip(), (match["input"] or "").strip()) if match else (src.strip(), "")
        )
        if not instruction:
            raise where.error(
                "field 'src' has no instruction text",
                field="src",
                reason="empty_field",
                fix="write src as 'Instruction: … Input: …'",
            )
        sides = ("pos", "neg") if self.options.pair_side == "both" else (self.options.pair_side,)
        answers = {
            side: _response(get_text(record, (side,), where, allow_empty=not self.options.require_output))
            for side in ("pos", "neg")
        }
        base_id = _own_id(record, "id") or where.default_id()
        for side in sides:
            other = "neg" if side == "pos" else "pos"
            yield self.instruction(
                where,
                source_id=base_id if len(sides) == 1 else f"{base_id}:{side}",
                instruction=instruction,
                input=input_text,
                output=answers[side],
                quality_signals={"expert_revised": side == "pos"},
                paired_output=answers[other],
            )


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


def _response(text: str) -> str:
    text = _unescape(text).strip()
    return text[len("Response:") :].strip() if text.startswith("Response:") else text
