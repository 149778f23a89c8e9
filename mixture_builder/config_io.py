"""Loading config dataclasses from YAML: one way for every package.

``load_config(cls, path_or_mapping, overrides)`` builds any config dataclass, nested sections included, from a
YAML file or a mapping; unknown keys and bad values are one-line :class:`ConfigError`\\ s naming the file, the
key's path and the closest known key. ``read_yaml_mapping`` parses a file (a missing file, bad YAML or a
non-mapping is one line too); ``help_field`` declares a field with help text and ``field_help`` lists them.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Iterable, Mapping
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


def located(error: ConfigError, source: str | None, prefix: str = "") -> ConfigError:
    """``error`` naming the file it came from (when it names none yet) and its field's full path."""
    if source and not error.path:
        error.path = source
    if prefix:
        error.field = _join(prefix, error.field) if error.field else prefix
    error.args = (error.render(),)
    return error


def help_field(text: str, **kwargs: Any) -> Any:
    """``dataclasses.field(**kwargs)`` carrying ``text`` as its help (shown by the CLI and in docs)."""
    return field(metadata={"help": text}, **kwargs)


def field_help(cls: type, prefix: str = "") -> dict[str, str]:
    """Field name (``prefix.name`` with a prefix) → its ``metadata["help"]`` text."""
    where = f"{prefix}." if prefix else ""
    return {where + f.name: f.metadata.get("help", "") for f in fields(cls)}


# ---------------------------------------------------------------------------------------------- the loader
def load_config(
    cls: type[T],
    source: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    section: str | None = None,
) -> T:
    """Build the config dataclass ``cls`` from a YAML file (a path) or a mapping, plus ``overrides``.

    The one way every config of the project is loaded (build, distill, select, evaluate, teacher, capacity,
    trainer). Nested dataclasses, lists and unions are built from their type hints; an unknown key at any depth
    is one :class:`ConfigError` naming the file, the key's path, the closest known key and the known keys; a
    bad value names its path too. ``section`` picks that key's mapping of the file when it has one.
    """
    where, prefix = None, ""
    if source is None:
        data: dict[str, Any] = {}
    elif isinstance(source, Mapping):
        data = dict(source)
    else:
        where = str(source)
        data = read_yaml_mapping(source)
        if section and isinstance(data.get(section), dict):
            data, prefix = dict(data[section]), section
    data.update(overrides or {})
    return build_config(cls, data, source=where, prefix=prefix)


def build_config(cls: type[T], data: Any, *, source: str | None = None, prefix: str = "") -> T:
    """``cls`` built from the mapping ``data`` (the part of a file at ``prefix``); see :func:`load_config`."""
    if isinstance(data, str) and getattr(cls, "shorthand_field", None):
        data = {cls.shorthand_field: data}  # e.g. `pools: [path/a, path/b]`
    expect_mapping(data, source=source, where=prefix)
    hints = typing.get_type_hints(cls)
    known = {f.name: hints.get(f.name, Any) for f in fields(cls) if f.init}
    for key in data:
        if key not in known:
            raise unknown_key_error(key, known, source=source, prefix=prefix, owner=cls.__name__)
    kwargs = {key: _convert(known[key], value, source, _join(prefix, key)) for key, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as error:
        raise located(error, source, prefix) from None
    except (TypeError, ValueError) as error:
        raise ConfigError(" ".join(str(error).split()), path=source, field=prefix or None) from error


def unknown_key_error(
    key: str, known: Iterable[str], *, source: str | None, prefix: str = "", owner: str = "the config"
) -> ConfigError:
    """The error for ``key``, which is not among ``known``: its path, the closest match and the known keys
    (or, for configs with many fields such as TRL's, where to find them)."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listed = f"known options: {', '.join(known)}" if len(known) <= 30 else f"see the fields of {owner}"
    return ConfigError("unknown option", path=source, field=_join(prefix, key), fix=hint + listed)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(hint: Any, value: Any, source: str | None, where: str) -> Any:
    """``value`` as the type ``hint`` asks for (dataclasses built recursively); unknown hints pass through."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(typing.get_args(hint), value, source, where)
    if dataclasses.is_dataclass(hint):
        return build_config(hint, value, source=source, prefix=where)
    if origin is list and isinstance(hint, type | types.GenericAlias):
        (item,) = typing.get_args(hint) or (Any,)
        if isinstance(value, (str, dict)):
            value = [value]
        if not isinstance(value, list):
            raise _bad_value("a list", value, source, where)
        return [_convert(item, v, source, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _bad_value("a mapping", value, source, where)
        _, item = typing.get_args(hint) or (str, Any)
        return {k: _convert(item, v, source, f"{where}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad_value("true/false", value, source, where)
        return value
    if hint in (int, float):
        return _number(hint, value, source, where)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _convert_union(options: tuple[Any, ...], value: Any, source: str | None, where: str) -> Any:
    if value is None:
        if type(None) in options:
            return None
        raise _bad_value("a value", value, source, where)
    options = tuple(o for o in options if o is not type(None))
    for option in options:  # an option that takes the value as it is wins (`bool | list[str]`, `str | int`)
        if option in (bool, int, float, str) and type(value) is option:
            return value
        if typing.get_origin(option) is list and isinstance(value, list):
            return _convert(option, value, source, where)
        if (dataclasses.is_dataclass(option) or typing.get_origin(option) is dict) and isinstance(value, dict):
            return _convert(option, value, source, where)
    first_error: ConfigError | None = None
    for option in options:
        try:
            return _convert(option, value, source, where)
        except ConfigError as error:
            first_error = first_error or error
    raise first_error if first_error else _bad_value("a value", value, source, where)


def _number(kind: type, value: Any, source: str | None, where: str) -> Any:
    if isinstance(value, str):  # YAML 1.1 reads `2e-5` as a string
        try:
            value = float(value) if kind is float else int(value)
        except ValueError:
            raise _bad_value("a number", value, source, where) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad_value("a number", value, source, where)
    if kind is int and isinstance(value, float):
        if not value.is_integer():
            raise _bad_value("an integer", value, source, where)
        value = int(value)
    return value


def _bad_value(expected: str, value: Any, source: str | None, where: str) -> ConfigError:
    return ConfigError(f"expected {expected}, got {value!r}", path=source, field=where or None)
