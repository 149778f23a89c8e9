"""Loading config dataclasses from YAML: one way for every package.

``read_yaml_mapping`` parses a file with ``yaml.safe_load`` (a missing file, bad YAML or a non-mapping is a
one-line :class:`ConfigError`); ``expect_mapping``, ``reject_unknown_keys`` and ``from_mapping`` build a
dataclass from a mapping, where unknown keys are errors naming the known ones; ``help_field`` declares a
field with help text and ``field_help`` lists those texts.
"""

from __future__ import annotations

import os
from dataclasses import field, fields
from pathlib import Path
from typing import Any, TypeVar

from mixture_builder.errors import ConfigError

T = TypeVar("T")


def read_yaml_mapping(path: str | os.PathLike[str], *, section: str | None = None) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (empty file: ``{}``); with ``section``, that key's mapping
    when the file has one (else the whole file)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", path=str(path), fix="check the config path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML ({error})", path=str(path), fix="fix the YAML syntax") from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping at the top level", path=str(path), fix="write key: value pairs")
    if section and isinstance(data.get(section), dict):
        data = data[section]
    return data


def expect_mapping(data: Any, *, source: str | None = None, where: str = "") -> dict[str, Any]:
    """``data`` when it is a mapping, else a one-line :class:`ConfigError` naming the section ``where``."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping, got {type(data).__name__}",
            path=source,
            field=where or None,
            fix="write key: value pairs",
        )
    return data


def reject_unknown_keys(
    cls: type, data: dict[str, Any], *, source: str | None = None, prefix: str = "", what: str = ""
) -> None:
    """Raise a one-line :class:`ConfigError` when ``data`` has keys that are not fields of ``cls``.

    The message is ``unknown {what }option(s) {prefix.}key, …`` and the fix lists the known options.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{prefix}." if prefix else ""
        kind = f"{what} " if what else ""
        raise ConfigError(
            f"unknown {kind}option(s) {', '.join(where + key for key in unknown)}",
            path=source,
            fix=f"known options{' of ' + prefix if prefix else ''}: {', '.join(sorted(known))}",
        )


def located(error: ConfigError, source: str | None) -> ConfigError:
    """``error`` naming the file it came from (when it names none yet)."""
    if source and not error.path:
        error.path = source
        error.args = (error.render(),)
    return error


def from_mapping(
    cls: type[T], data: Any, *, source: str | None = None, prefix: str = "", what: str = ""
) -> T:
    """Build the dataclass ``cls`` from the mapping ``data``; unknown keys, a non-mapping and invalid values
    are one-line :class:`ConfigError`\\ s naming ``source``."""
    expect_mapping(data, source=source, where=prefix)
    reject_unknown_keys(cls, data, source=source, prefix=prefix, what=what)
    try:
        return cls(**data)
    except ConfigError as error:
        raise located(error, source) from None


def help_field(text: str, **kwargs: Any) -> Any:
    """``dataclasses.field(**kwargs)`` carrying ``text`` as its help (shown by the CLI and in docs)."""
    return field(metadata={"help": text}, **kwargs)


def field_help(cls: type, prefix: str = "") -> dict[str, str]:
    """Field name (``prefix.name`` with a prefix) → its ``metadata["help"]`` text."""
    where = f"{prefix}." if prefix else ""
    return {where + f.name: f.metadata.get("help", "") for f in fields(cls)}
