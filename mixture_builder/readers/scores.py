"""Score tables: per-sample ratings stored as torch files (e.g. DS2's raw LLM scores, 0–5 per sample).

They are side data, not records: ``RawReader`` counts them as ``skipped_score_table`` when it meets them in a
folder. Load them here, e.g. to estimate a rater's label-transition matrix for the quality reward.
"""

from __future__ import annotations

import os

import numpy as np

from mixture_builder.errors import InputError


def load_score_table(path: str | os.PathLike[str]) -> np.ndarray:
    """The scores in ``path`` (a torch file holding a list or 1-D tensor of numbers) as a 1-D numpy array."""
    import torch

    path = os.fspath(path)

    try:
        value = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any load failure is bad input for the user
        raise InputError(
            f"cannot load a score table ({error.__class__.__name__}: {error})",
            path=path,
            fix="pass a torch file holding a list or 1-D tensor of scores",
            reason="score_table",
        ) from None
    array = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.number):
        raise InputError(
            f"holds {array.dtype} values of shape {array.shape}, expected a 1-D list of numbers",
            path=path,
            fix="store one score per sample",
            reason="score_table",
        )
    return array
