"""``SelectConfig``: a distill config plus a ``selection:`` section (``lm-mixup select --config FILE``).

A ``distill`` YAML file works unchanged: select reads its ``pools``, ``on_error``, ``dedup``, ``scoring``
(existing scores and the rater), ``decontamination``, ``tasks``/``workers``, ``clustering.embedding_model`` and
``merge.long_tail_k`` (the long-tail score of ``ds2``), and ignores the rest (distiller, merge sizes, output,
push target). Its own settings live under ``selection:``::

    selection: {methods: [random, top-k, ds2, full], size: 1000, seed: 42, output: baselines}
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixture_builder.config_io import from_mapping, help_field, read_yaml_mapping
from mixture_builder.distill.config import DistillConfig
from mixture_builder.errors import ConfigError

METHODS: tuple[str, ...] = ("random", "top-k", "ds2", "full")
"""The selection baselines: ``random`` (seeded sample), ``top-k`` (highest quality, AlpaGasus-style), ``ds2``
(quality, then long-tail diversity, as DS2 ranks), ``full`` (the whole deduplicated, scored pool)."""

SIZED = ("random", "top-k", "ds2")
"""Methods that need ``size`` or ``fraction``."""


def _bad(name: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(problem, field=f"selection.{name}", fix=fix)


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
class SelectConfig:
    """A whole `lm-mixup select` run: the pool's preparation (a ``DistillConfig``) and the selection."""

    pool: DistillConfig = help_field(
        "Pools, dedup, scoring, decontamination (the distill config's sections).", default_factory=DistillConfig
    )
    selection: SelectionConfig = help_field("Baselines and sizes.", default_factory=SelectionConfig)

    @property
    def work_config(self) -> DistillConfig:
        """The pool config writing into this run's output (``{selection.output}/.lm-mixup/``)."""
        return dataclasses.replace(self.pool, output=self.selection.output, push_to=None, report=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None,
                  base: str | os.PathLike[str] | None = None) -> SelectConfig:
        """Build from a distill config mapping with an optional ``selection`` section; relative paths resolve
        against ``base`` (a config file's folder)."""
        rest = dict(data or {})
        selection = from_mapping(SelectionConfig, rest.pop("selection", None) or {}, source=source,
                                 prefix="selection")
        pool = DistillConfig.from_dict(rest, source=source)
        if base is not None:
            pool.resolve_paths(base)
        return cls(pool=pool, selection=selection)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> SelectConfig:
        """Load a YAML file (a distill config, plus ``selection:``)."""
        return cls.from_dict(read_yaml_mapping(path), source=str(path), base=Path(path).parent)

    def to_dict(self) -> dict[str, Any]:
        return {**self.pool.to_dict(), "selection": dataclasses.asdict(self.selection)}
