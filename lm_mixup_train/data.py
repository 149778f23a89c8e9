"""Load MIXTURE splits from a local folder or a Hub dataset repo."""

from __future__ import annotations

import re
from pathlib import Path

from mixture_builder.errors import InputError

_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
LOCAL_OUTPUT_DIRS = ("demo-output", "outputs")
"""First path components of the folders the project's configs write to: never Hub namespaces."""


def looks_local(dataset: str) -> bool:
    """Whether ``dataset`` names a local path rather than a Hub repo id ``org/name``: it starts with ``.``, ``/``
    or ``~``, has more than one ``/`` (or a ``\\``), or its first component is a local folder or one of
    :data:`LOCAL_OUTPUT_DIRS`."""
    if dataset.startswith((".", "/", "~")) or dataset.count("/") > 1 or "\\" in dataset:
        return True
    first, sep, _ = dataset.partition("/")
    return bool(sep) and (first in LOCAL_OUTPUT_DIRS or Path(first).is_dir())


def load_mixture(dataset: str, config: str, split: str, *, revision: str | None = None):
    """One split of one MIXTURE config (``"sft"`` or ``"grpo"``) as a ``datasets.Dataset``.

    ``dataset`` is a local folder (``data_{config}/{split}-*.parquet`` + README configs) or a Hub repo id
    (``org/name``, at ``revision``).
    """
    import datasets

    local = Path(dataset).expanduser()
    if local.is_dir():
        target, kwargs = str(local), {}
    elif looks_local(dataset) and not local.exists():
        raise InputError(
            f"dataset folder not found: {dataset}",
            fix="run `make demo` / `lm-mixup build` first, or pass a Hub repo id (org/name)",
        )
    elif _REPO_ID.match(dataset) and not local.exists():
        target, kwargs = dataset, {"revision": revision}
    else:
        raise InputError(
            "not a MIXTURE folder or Hub dataset id", path=dataset, fix="pass a folder with data_sft/ and data_grpo/ or org/name"
        )
    try:
        return datasets.load_dataset(target, config, split=split, **kwargs)
    except ConnectionError as error:
        raise InputError(
            "no such local folder, and the Hub repo of that name could not be reached",
            path=dataset,
            fix="check the path, or the network / HF_ENDPOINT for a Hub repo",
        ) from error
    except (ValueError, FileNotFoundError) as error:
        raise InputError(
            f"cannot load config '{config}' split '{split}': {str(error).splitlines()[0]}",
            path=dataset,
            fix="check the dataset's README configs (data_sft/, data_grpo/) and the split names",
        ) from error
