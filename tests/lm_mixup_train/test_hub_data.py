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
