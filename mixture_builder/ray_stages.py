"""Pipeline stages on Ray: datatrove's ``RayPipelineExecutor``, failing like the local executor.

datatrove's Ray executor logs a failed task, returns, and a stage depending on it then waits for it forever
(it polls the completions every two minutes). :class:`RayStageExecutor` raises instead, with the task's own
error (a :class:`~mixture_builder.errors.UserError` still prints as one line; the task's log holds the
traceback). It connects to Ray on first use (``ray.init()``: ``$RAY_ADDRESS``, else a
cluster started on this machine with ``ray start``, else a new local instance) unless the caller already did.
Every node must see the output folder (a shared file system) and have the project installed.
"""

from __future__ import annotations

import pickle
from typing import Any

from datatrove.executor.ray import RayPipelineExecutor
from datatrove.utils.stats import PipelineStats
from loguru import logger

ERRORS = "errors"
"""Subfolder of a stage's logging folder holding the error of each failed task (pickled)."""


class RayStageExecutor(RayPipelineExecutor):
    """A stage as Ray tasks; ``run()`` raises the first failed task's error (see the module doc)."""

    def __init__(self, pipeline: list[Any], **kwargs: Any) -> None:
        # datatrove warns on every executor that a local logging folder must be shared by the nodes; the
        # module doc (and the README) say it once
        logger.disable("datatrove.executor.ray")
        try:
            super().__init__(pipeline, **kwargs)
        finally:
            logger.enable("datatrove.executor.ray")

    def run(self) -> None:
        import ray

        if not ray.is_initialized():
            ray.init()
        super().run()
        failed = self.get_incomplete_ranks(skip_completed=True)
        if failed:
            raise self._failure(failed)

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1) -> PipelineStats:
        path = f"{ERRORS}/{rank:05d}.pkl"
        if self.logging_dir.exists(path):  # an earlier run's
            self.logging_dir.rm(path)
        try:
            return super()._run_for_rank(rank, local_rank, node_rank)
        except Exception as error:
            with self.logging_dir.open(path, "wb") as f:
                f.write(_pickled(error))
            raise

    def _failure(self, failed: list[int]) -> Exception:
        """The error of the first failed task that recorded one (else one naming the failed tasks)."""
        folder = self.logging_dir.path
        for rank in failed:
            path = f"{ERRORS}/{rank:05d}.pkl"
            if self.logging_dir.exists(path):
                with self.logging_dir.open(path, "rb") as f:
                    error = pickle.loads(f.read())
                if hasattr(error, "add_note"):
                    error.add_note(f"Ray task {rank} of {folder}; its log: {folder}/logs/task_{rank:05d}.log")
                return error
        return RuntimeError(f"{len(failed)}/{self.world_size} Ray tasks of {folder} did not complete (tasks "
                            f"{', '.join(map(str, failed[:10]))}); see {folder}/logs/ and Ray's logs")


def _pickled(error: Exception) -> bytes:
    """``error`` pickled; as a ``RuntimeError`` with its text when it does not survive pickling."""
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001 — any failure to round-trip
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
