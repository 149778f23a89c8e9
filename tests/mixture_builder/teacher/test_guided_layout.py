"""Layout-guided generation: the logits processor on the tiny test model (every completion parses, budgets
hold, the off switch gives raw generation) and the regex sent to vLLM/SGLang."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from mixture_builder.distill.parse import parse_distillation
from mixture_builder.generate.samples import parse_sample
from mixture_builder.generate.teacher_steps import sample_layout
from mixture_builder.mixture_format import TASKS, matches_task_pattern, parse_completion, prompt_messages
from mixture_builder.teacher.embedded import generate_batch, load_model
from mixture_builder.teacher.guided_layout import LayoutLogitsProcessor
from mixture_builder.teacher.layout import Layout, think_answer_layout
from tests.lm_mixup_train._tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny")))


CLUSTERS = [prompt_messages(f"Q: what is item {i}?\n A: it is a river.\n\nQ: item {i}\n A: a river") for i in range(4)]


@pytest.mark.parametrize("task", TASKS)
def test_guided_completions_always_parse(tiny: str, task: str):
    layout = think_answer_layout(task, think_budget=12)
    for temperature, max_tokens, seed in [(0.0, 48, 0), (1.0, 64, 1), (1.5, 96, 2), (1.0, 40, 3)]:
        for result in generate_batch(tiny, CLUSTERS, max_tokens=max_tokens, temperature=temperature, seed=seed,
                                     layout=layout):
            parsed = parse_completion(result.text)
            assert parsed is not None, result.text
            assert result.finish_reason == "stop" and result.completion_tokens <= max_tokens
            assert matches_task_pattern(task, parsed.answer), parsed.answer
            assert re.fullmatch(layout.regex(chars_per_token=None), result.text), result.text
            if task == "qa":
                parse_distillation(result.text, finish_reason=result.finish_reason, strict=True)


def test_off_switch_restores_raw_generation(tiny: str):
    raw = generate_batch(tiny, CLUSTERS, max_tokens=24, layout=None)
    tokenizer, model = load_model(tiny)
    prompts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in CLUSTERS]
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    output = model.generate(**encoded, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    plain = [tokenizer.decode([t for t in row if t != tokenizer.eos_token_id], skip_special_tokens=True).strip()
             for row in output[:, encoded["input_ids"].shape[1]:].tolist()]
    assert [r.text for r in raw] == plain
    guided = generate_batch(tiny, CLUSTERS, max_tokens=24, layout=think_answer_layout("qa", think_budget=4))
    assert [r.text for r in guided] != plain and all(parse_completion(r.text) for r in guided)


def test_one_batch_mixes_layouts_and_raw_rows(tiny: str):
    qa, mcq = think_answer_layout("qa", think_budget=6), think_answer_layout("mcq", think_budget=6)
    conversations = CLUSTERS[:3]
    mixed = generate_batch(tiny, conversations, max_tokens=48, layout=[qa, None, mcq])
    raw = generate_batch(tiny, conversations, max_tokens=48)
    assert mixed[1].text == raw[1].text
    assert matches_task_pattern("qa", parse_completion(mixed[0].text).answer)
    assert matches_task_pattern("mcq", parse_completion(mixed[2].text).answer)


def drive(tokenizer, layout: Layout, prefer: str, max_new_tokens: int) -> tuple[str, int]:
    """Decode under the processor with a 'model' that always prefers the token ``prefer`` (else the lowest
    allowed id); returns the text and the number of tokens."""
    processor = LayoutLogitsProcessor(tokenizer, layout, prompt_length=1, max_new_tokens=max_new_tokens)
    favourite = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(prefer)[0])
    ids = [tokenizer.eos_token_id]
    for _ in range(max_new_tokens):
        scores = -torch.arange(len(tokenizer), dtype=torch.float)[None, :] / len(tokenizer)
        scores[0, favourite] = 10.0
        token = int(processor(torch.tensor([ids]), scores).argmax())
        ids.append(token)
        if token == tokenizer.eos_token_id:
            break
    return tokenizer.decode(ids[1:], skip_special_tokens=True), len(ids) - 1


def test_think_budget_forces_the_close_and_max_tokens_is_kept(tiny: str):
    tokenizer, _ = load_model(tiny)
    text, n = drive(tokenizer, think_answer_layout("qa", think_budget=5), "river", 200)
    parsed = parse_completion(text)
    assert parsed is not None and parsed.think == "river" * 5 and n <= 200  # 5 think tokens, then </think>
    for limit in (30, 21):  # a model that never stops on its own still ends inside the limit
        text, n = drive(tokenizer, think_answer_layout("qa", think_budget=100), "river", limit)
        assert parse_completion(text) is not None and n <= limit, text


@pytest.mark.parametrize("task", TASKS)
def test_build_reply_layouts_parse_into_the_task_pattern(tiny: str, task: str):
    tokenizer, _ = load_model(tiny)
    layout = sample_layout(task, with_reasoning=True, reasoning_budget=3)
    text, _ = drive(tokenizer, layout, "river", 80)
    sample, cot = parse_sample(text, task)
    assert matches_task_pattern(task, sample) and cot.startswith("river")
    assert re.fullmatch(layout.regex(), text + ("" if text.endswith("\n") else "\n"))


def test_regex_matches_only_the_layout():
    pattern = re.compile(think_answer_layout("qa", think_budget=10).regex())
    assert pattern.fullmatch("<think>short</think>\n\n<answer>Q: a question\n A: an answer</answer>")
    assert not pattern.fullmatch("<think>" + "x" * 42 + "</think>\n\n<answer>Q: q\n A: a</answer>")  # 1 + 10 × 4
    assert not pattern.fullmatch("<think>a</think>\n\n<answer>Q: \n A: a</answer>")  # blank question
    assert not pattern.fullmatch("<think>a <b</think>\n\n<answer>Q: q\n A: a</answer>")
    mcq = re.compile(think_answer_layout("mcq").regex())
    assert mcq.fullmatch("<think>t</think>\n\n<answer>Q: q\nA) a\nB) b\nC) c\nD) d\nAnswer: C</answer>")
    assert not mcq.fullmatch("<think>t</think>\n\n<answer>Q: q\nA) a\nB) b\nC) c\nD) d\nAnswer: E</answer>")


def test_layout_round_trips_through_the_request_payload():
    layout = think_answer_layout("tfq", think_budget=7)
    assert Layout.from_dict(layout.to_dict()) == layout


def test_checkpoint_guidance_is_cached_apart(tiny: str, tmp_path: Path):
    from mixture_builder.distill.checkpoint import CheckpointGenerator

    cache = tmp_path / "cache.sqlite"
    raw = CheckpointGenerator(tiny, max_new_tokens=32, cache_path=cache)
    guided = CheckpointGenerator(tiny, max_new_tokens=32, cache_path=cache,
                                 layout=think_answer_layout("qa", think_budget=8))
    try:
        raw_results, guided_results = raw.generate(CLUSTERS[:2]), guided.generate(CLUSTERS[:2])
    finally:
        raw.close()
        guided.close()
    assert not any(r.cached for r in guided_results)
    assert all(parse_completion(r.text) for r in guided_results)
    assert [r.text for r in raw_results] != [r.text for r in guided_results]


@pytest.mark.slow
def test_embedded_smollm2_distils_demo_clusters_into_parsable_rows():
    pytest.importorskip("gguf")
    from mixture_builder.distill.distiller import distill_messages
    from mixture_builder.teacher.embedded import embedded_model_dir

    clusters = ["Q: What is photosynthesis?\n A: Plants make food from light.\n\nQ: Photosynthesis?\n A: sunlite",
                "Q: What does HTTP 404 mean?\n A: Not found.\n\nQ: 404?\n A: page not found error"]
    layout = think_answer_layout("qa", think_budget=30)
    results = generate_batch(str(embedded_model_dir()), [distill_messages(c, hint=True) for c in clusters],
                             max_tokens=124, layout=layout)
    for result in results:
        distilled = parse_distillation(result.text, finish_reason=result.finish_reason, strict=True)
        assert distilled.instruction and distilled.output
