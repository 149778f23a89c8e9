"""Small I/O helpers shared by the clustering stages (local paths or any fsspec URL via datatrove)."""

from __future__ import annotations

import io
import os

import numpy as np
from datatrove.io import DataFolder, DataFolderLike, get_datafolder


def datafolder(folder: DataFolderLike | os.PathLike[str]) -> DataFolder:
    """datatrove ``DataFolder`` of a path, URL, ``(path, fs)`` pair or ``pathlib.Path``."""
    return get_datafolder(os.fspath(folder) if isinstance(folder, os.PathLike) else folder)


def save_npy(folder: DataFolder, path: str, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    with folder.open(path, "wb") as f:
        f.write(buffer.getvalue())


def load_npy(folder: DataFolder, path: str) -> np.ndarray:
    with folder.open(path, "rb") as f:  # read in place: no second copy of the file's bytes
        return np.load(f, allow_pickle=False)
