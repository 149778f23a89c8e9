"""Test-only builders: a ~1M-parameter random Qwen2 model with a locally trained BPE tokenizer, and a small
MIXTURE folder — both built in seconds, with no download."""

from __future__ import annotations

import json
import random
from pathlib import Path

from mixture_builder.mixture_format import (
    MIXTURE_FIELDS,
    MIXTURE_INSTRUCTION,
    SYSTEM_PROMPT,
    format_completion,
    linearise,
)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_TOPICS = ["river", "mountain", "castle", "planet", "forest", "library", "harbour", "desert", "glacier", "volcano"]
_FACTS = ["is old", "is large", "is famous", "is cold", "is near the sea", "has a long history", "is green"]


def _samples(seed: int = 0) -> list[dict]:
    """Deterministic toy MIXTURE records across the five task types."""
    rng = random.Random(seed)
    rows = []
    for i in range(40):
        topic, fact = rng.choice(_TOPICS), rng.choice(_FACTS)
        task = ("qa", "mcq", "tfq", "cs", "para")[i % 5]
        if task == "qa":
            output = f"Q: What is true of the {topic}? A: The {topic} {fact}."
        elif task == "mcq":
            output = f"Q: Which {topic}? A) one B) two C) three D) four Answer: A"
        elif task == "tfq":
            output = f"The {topic} {fact}. Answer: True"
        elif task == "cs":
            output = f"C: {topic} S: The {topic} {fact}."
        else:
            output = f"The {topic} {fact}, and people visit the {topic} often."
        inputs = [output.replace("The", "teh"), output + " " + output.split()[-1], f"{topic} {fact}"]
        rows.append(
            {
                "id": f"toy-{i}",
                "task_type": f"{task}_mixup",
                "instruction": MIXTURE_INSTRUCTION,
                "input": linearise(inputs),
                "output": output,
                "cot": "Merge the samples.",
                "source": "toy",
                "inputs": inputs,
                "degradations": [["typos"], ["repetition"], ["lack_of_depth"]],
                "source_ids": [f"src-{i}"],
                "quality": 4 + i % 2,
                "teacher": "toy-teacher/write_qa@1",
                "license": "CC-BY-SA-4.0",
            }
        )
    assert set(rows[0]) == set(MIXTURE_FIELDS)
    return rows


def corpus_lines() -> list[str]:
    """Text the tokenizer is trained on: the toy records, prompts and answer format."""
    lines = [SYSTEM_PROMPT, MIXTURE_INSTRUCTION]
    for row in _samples():
        lines += [row["input"], format_completion(row["cot"], row["output"]), *row["inputs"]]
    return lines * 3


def build_tiny_model(out_dir: Path) -> Path:
    """Write a random Qwen2 causal LM (~1M parameters) and a BPE tokenizer with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(corpus_lines(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    tokenizer.add_tokens(["<think>", "</think>", "<answer>", "</answer>"])  # one token each, as in Qwen3
    tokenizer.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def write_mixture_folder(out_dir: Path) -> Path:
    """A small MIXTURE folder: ``data_sft/`` and ``data_grpo/`` Parquet shards (train/test) and a README."""
    from dataset_cards.layout import write_dataset_folder

    rows = _samples()
    write_dataset_folder(
        out_dir,
        {
            "sft": {"train": rows[:16], "test": rows[16:20]},
            "grpo": {"train": rows[20:36], "test": rows[36:]},
        },
    )
    (out_dir / "stats.json").write_text(json.dumps({"records": len(rows)}))
    return out_dir
