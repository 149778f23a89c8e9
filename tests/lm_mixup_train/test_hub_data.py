"""MIXTURE from a Hub dataset repo (the local Hub server), at a revision."""

from __future__ import annotations

from hub.testing import local_hub_endpoint  # noqa: F401  (fixture)
from lm_mixup_train.data import load_mixture


def test_load_mixture_from_hub_repo(mixture_dir, local_hub_endpoint) -> None:  # noqa: F811
    from huggingface_hub import HfApi

    from hub.push import push_folder

    push_folder(mixture_dir, "test-org/mixture", repo_type="dataset")
    revision = HfApi().dataset_info("test-org/mixture").sha
    data = load_mixture("test-org/mixture", "grpo", "test", revision=revision)
    assert len(data) == 4 and {"output", "task_type", "cot"} <= set(data.column_names)


def test_missing_local_folder_is_not_a_hub_lookup(tmp_path, monkeypatch) -> None:
    import pytest

    from lm_mixup_train.data import looks_local
    from mixture_builder.errors import InputError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    for path in ("demo-output/mixture", "runs/mixture", "./mixture", "/data/mixture", "~/mixture", "a/b/c"):
        assert looks_local(path), path
        with pytest.raises(InputError) as raised:
            load_mixture(path, "sft", "train")
        message = str(raised.value)
        assert message.startswith(f"dataset folder not found: {path}") and "make demo" in message
        assert "\n" not in message
    for repo_id in ("test-org/mixture", "HuggingFaceH4/ultrachat_200k", "org/name.v2"):
        assert not looks_local(repo_id), repo_id
