"""``SelectConfig``: a distill config plus a ``selection:`` section (``lm-mixup select --config FILE``).

``SelectConfig`` subclasses ``DistillConfig``, so a ``distill`` YAML file works unchanged and loads through the
project's one loader (``config_io``). Select uses its ``pools``, ``on_error``, ``dedup``, ``scoring`` (existing
scores and the rater), ``decontamination``, ``executor``, ``clustering.embedding_model`` and
``merge.long_tail_k`` (the long-tail score of ``ds2``), and ignores the rest (distiller, merge sizes, ``output``,
``push_to``, ``report``). Its own settings live under ``selection:``::

    selection: {methods: [random, top-k, ds2, full], size: 1000, seed: 42, output: baselines}
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass

from mixture_builder.config_io import help_field
from mixture_builder.distill.config import DistillConfig
from mixture_builder.errors import ConfigError

METHODS: tuple[str, ...] = ("random", "top-k", "ds2", "full")
"""The selection baselines: ``random`` (seeded sample), ``top-k`` (highest quality, AlpaGasus-style), ``ds2``
(quality, then long-tail diversity, as DS2 ranks), ``full`` (the whole deduplicated, scored pool)."""

SIZED = ("random", "top-k", "ds2")
"""Methods that need ``size`` or ``fraction``."""


def _bad(name: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(problem, field=name, fix=fix)  # the loader prefixes "selection."


@dataclass
class SelectionConfig:
    """Which baselines to write and how many rows each holds."""

    methods: list[str] = help_field(
        f"Baselines to write, one folder each under output: {', '.join(METHODS)}.",
        default_factory=lambda: list(METHODS),
    )
    size: int | None = help_field(
        "Rows per sized baseline (random, top-k, ds2); capped at the pool size. Give size or fraction.",
        default=None,
    )
    fraction: float | None = help_field(
        "Rows per sized baseline as a share of the deduplicated, scored pool, in (0, 1].", default=None
    )
    seed: int = help_field("Seed of `random` and of `top-k`'s order among equal scores.", default=42)
    output: str = help_field(
        "Output folder: OUTPUT/<method>/ per baseline, intermediates in OUTPUT/.lm-mixup/.", default="selected"
    )

    def __post_init__(self) -> None:
        if isinstance(self.methods, str):
            self.methods = [self.methods]
        if not isinstance(self.methods, list) or not self.methods:
            raise _bad("methods", "no methods given", f"list one or more of {', '.join(METHODS)}")
        for method in self.methods:
            check_method(method)
        if len(set(self.methods)) != len(self.methods):
            raise _bad("methods", f"a method is listed twice: {self.methods}", "list each method once")
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int)
                                      or self.size < 1):
            raise _bad("size", f"must be a positive integer, got {self.size!r}", "e.g. size: 1000")
        if self.fraction is not None and (isinstance(self.fraction, bool)
                                          or not isinstance(self.fraction, (int, float))
                                          or not 0 < self.fraction <= 1):
            raise _bad("fraction", f"must be within (0, 1], got {self.fraction!r}", "e.g. fraction: 0.1")
        if self.size is not None and self.fraction is not None:
            raise _bad("size", "both size and fraction are set", "give one of them")
        sized = [m for m in self.methods if m in SIZED]
        if sized and self.size is None and self.fraction is None:
            raise _bad("size", f"{', '.join(sized)} need a size", "set selection.size (rows) or selection.fraction")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise _bad("seed", f"must be an integer, got {self.seed!r}", "e.g. seed: 42")
        if not self.output:
            raise _bad("output", "must not be empty", "name an output folder")


def check_method(method: str) -> str:
    """``method`` when it is a known baseline, else a one-line ``ConfigError`` suggesting the closest one."""
    if method not in METHODS:
        close = difflib.get_close_matches(str(method), METHODS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise _bad("methods", f"unknown method {method!r}", f"{hint}use one of {', '.join(METHODS)}")
    return method


@dataclass
class SelectConfig(DistillConfig):
    """A whole `lm-mixup select` run: a distill config (the pool's preparation) plus the selection."""

    selection: SelectionConfig = help_field(
        "Baselines, sizes, seed and output folder (default: only `full`, the one baseline without a size).",
        default_factory=lambda: SelectionConfig(methods=["full"]),
    )

    @property
    def work_config(self) -> DistillConfig:
        """The pool's preparation writing into this run's output (``{selection.output}/.lm-mixup/``)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(DistillConfig)}
        return DistillConfig(**{**data, "output": self.selection.output, "push_to": None, "report": False})
