"""A local checkpoint folder as the distiller (transformers on CPU), with the response cache."""

from __future__ import annotations

from pathlib import Path

from datatrove.data import Document

from mixture_builder.distill.checkpoint import CheckpointGenerator
from mixture_builder.distill.config import DistillerConfig
from mixture_builder.distill.distiller import distill_messages, distiller_step
from mixture_builder.mixture_format import prompt_messages


def _tiny_checkpoint(folder: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from mixture_builder.teacher.embedded import embedded_model_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                         eos_token_id=tokenizer.eos_token_id))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_checkpoint_prompt_is_exactly_the_training_prompt():
    cluster = "Q: a\n A: b\n\nQ: c\n A: d"
    assert distill_messages(cluster, hint=False) == prompt_messages(cluster)
    assert distill_messages(cluster, hint=True) != prompt_messages(cluster)


def test_checkpoint_distiller_generates_greedily_and_caches(tmp_path: Path):
    folder = _tiny_checkpoint(tmp_path / "ckpt")
    cache = tmp_path / "cache.sqlite"
    conversations = [prompt_messages("Q: a\n A: b\n\nQ: a?\n A: b."), prompt_messages("Q: x\n A: y")]
    first = CheckpointGenerator(str(folder), max_new_tokens=6, cache_path=cache)
    results = first.generate(conversations)
    first.close()
    assert all(r.text is not None and r.completion_tokens <= 6 and not r.cached for r in results)
    second = CheckpointGenerator(str(folder), max_new_tokens=6, cache_path=cache)
    again = second.generate(conversations)
    second.close()
    assert [r.text for r in again] == [r.text for r in results] and all(r.cached for r in again)

    config = DistillerConfig(checkpoint=str(folder), max_new_tokens=6, guided=False)  # raw: the cached replies
    config.teacher.cache_path = str(cache)
    step = distiller_step(config)
    docs = [Document(text="Q: a\n A: b\n\nQ: a?\n A: b.", id="cluster/s/00000", metadata={})]
    out = list(step.run(iter(docs)))
    assert out[0].metadata["completion"] == results[0].text and out[0].metadata["teacher"].startswith(str(folder))
    assert out[0].metadata["teacher"].endswith("; raw)")
    assert config.strict  # a trained checkpoint must answer in the LM-Mixup format


def test_a_checkpoint_retrained_into_the_same_folder_is_asked_again(tmp_path: Path):
    import torch
    from safetensors.torch import load_file, save_file

    folder = _tiny_checkpoint(tmp_path / "ckpt")
    cache = tmp_path / "cache.sqlite"
    conversations = [prompt_messages("Q: a\n A: b\n\nQ: a?\n A: b.")]
    first = CheckpointGenerator(str(folder), max_new_tokens=6, cache_path=cache)
    assert not first.generate(conversations)[0].cached
    first.close()
    weights = folder / "model.safetensors"
    tensors = load_file(weights)
    save_file({k: v + 0.5 * torch.randn_like(v) for k, v in tensors.items()}, weights, metadata={"format": "pt"})
    second = CheckpointGenerator(str(folder), max_new_tokens=6, cache_path=cache)
    again = second.generate(conversations)
    second.close()
    assert again[0].text is not None and not again[0].cached
