"""Versioned prompt templates: Jinja files shipped as package data, with a YAML front matter.

A template file ``<package>/prompts/<name>.jinja`` looks like::

    ---
    name: rate_quality
    version: 1
    output:
      format: json            # json | tagged | text
      fields: {overall: int, rarity: int}
      ranges: {overall: [1, 10]}
    ---
    [system]
    You rate ...
    [user]
    {{ sample }}

Lines ``[system]``, ``[user]`` and ``[assistant]`` start chat messages; each section is rendered with the same
variables. ``parse`` validates a reply against the ``output`` spec (tolerantly: JSON is extracted from
surrounding prose or code fences, and a bare ``"overall": 7`` is accepted when the object is broken) and
raises ``OutputParseError`` with the reason; ``repair_messages`` builds the one retry that asks the model to fix
its reply. Bumping ``version`` (or editing the text) changes the rendered messages and therefore the cache keys
of that template's requests only.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError
from mixture_builder.teacher.types import ChatRequest

_ROLE_LINE = re.compile(r"^\[(system|user|assistant)\]\s*$", re.MULTILINE)
_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,),
                                       "list": (list,), "dict": (dict,)}
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
DEFAULT_REPAIR = (
    "Your previous reply could not be used: {error}. Reply again with only the requested output, in exactly "
    "the requested format, and nothing else."
)


class OutputParseError(ValueError):
    """A teacher reply that does not match its template's output spec."""


@dataclass(frozen=True)
class OutputSpec:
    """What a template's reply must look like."""

    format: str = "text"
    fields: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt with a name, a version and an output spec (see the module docstring)."""

    name: str
    version: str
    source: str
    output: OutputSpec = field(default_factory=OutputSpec)
    repair: str = DEFAULT_REPAIR
    origin: str = ""

    @property
    def id(self) -> str:
        """``name@version``: what provenance records name."""
        return f"{self.name}@{self.version}"

    def render(self, **variables: Any) -> list[dict[str, str]]:
        """The chat messages for ``variables`` (a missing variable is an error)."""
        import jinja2

        messages = []
        for role, body in _sections(self.source, self.origin):
            try:
                text = _compiled(body).render(**variables)
            except jinja2.UndefinedError as error:
                raise ConfigError(f"template {self.id}: {error}", path=self.origin,
                                  fix="pass every variable the template uses") from error
            messages.append({"role": role, "content": text.strip()})
        return messages

    def request(self, params: dict[str, Any] | None = None, **variables: Any) -> ChatRequest:
        """A ``ChatRequest`` for ``variables`` that this template parses (and repairs once)."""
        return ChatRequest(messages=self.render(**variables), params=dict(params or {}), tag=self.id,
                           template=self)

    def response_format(self, mode: str) -> dict[str, Any] | None:
        """The ``response_format`` request field for JSON templates (``mode``: none|json_object|json_schema)."""
        if self.output.format != "json" or mode == "none":
            return None
        if mode == "json_object":
            return {"type": "json_object"}
        kinds = {"int": "integer", "float": "number", "str": "string", "bool": "boolean", "list": "array",
                 "dict": "object"}
        properties: dict[str, Any] = {}
        for name, kind in self.output.fields.items():
            prop: dict[str, Any] = {"type": kinds.get(kind, "string")}
            if name in self.output.ranges:
                prop["minimum"], prop["maximum"] = self.output.ranges[name]
            properties[name] = prop
        required = [n for n in self.output.fields if n not in self.output.optional]
        schema = {"type": "object", "properties": properties, "required": required}
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": schema}}

    def parse(self, text: str | None) -> dict[str, Any]:
        """The validated output of a reply; ``OutputParseError`` names what is wrong."""
        if text is None or not text.strip():
            raise OutputParseError("empty reply")
        kind = self.output.format
        if kind == "json":
            return self._check(_extract_json(text, list(self.output.fields)))
        if kind == "tagged":
            found: dict[str, Any] = {}
            for name in self.output.fields:
                match = re.search(rf"<{name}>(.*?)</{name}>", text, re.DOTALL)
                if match is None:
                    if name in self.output.optional:
                        continue
                    raise OutputParseError(f"missing <{name}>…</{name}>")
                found[name] = match.group(1).strip()
            return self._check(found)
        return {"text": text.strip()}

    def repair_messages(self, messages: list[dict[str, Any]], reply: str | None, error: str) -> list[dict[str, Any]]:
        """The conversation for one repair attempt: the original, the bad reply, and the repair instruction."""
        return [*messages, {"role": "assistant", "content": reply or ""},
                {"role": "user", "content": self.repair.format(error=error)}]

    def _check(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind in self.output.fields.items():
            if name not in data or data[name] is None:
                if name in self.output.optional:
                    continue
                raise OutputParseError(f"missing field '{name}'")
            value = _coerce(data[name], kind)
            if value is None:
                raise OutputParseError(f"field '{name}' should be {kind}, got {data[name]!r}")
            if name in self.output.ranges:
                low, high = self.output.ranges[name]
                if not low <= value <= high:
                    raise OutputParseError(f"field '{name}'={value} outside [{low}, {high}]")
            if kind == "str" and not value.strip():
                raise OutputParseError(f"field '{name}' is empty")
            out[name] = value
        return out


def load_template(spec: str, name: str | None = None) -> PromptTemplate:
    """Load ``"package:name"`` (``<package>/prompts/<name>.jinja``), ``(package, name)``, or a file path."""
    if name is None:
        if spec.endswith(".jinja") and ":" not in spec:
            path = Path(spec).resolve()
            stamp = path.stat().st_mtime_ns if path.exists() else 0
            return _load_file(str(path), stamp)  # an edited file is read again
        package, sep, name = spec.partition(":")
        if not sep or not name:
            raise ConfigError(f"bad template reference {spec!r}", fix="use 'package:name' or a .jinja path")
    else:
        package = spec
    return _load_packaged(package, name)


@functools.cache
def _load_packaged(package: str, name: str) -> PromptTemplate:
    try:
        path = resources.files(package) / "prompts" / f"{name}.jinja"
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ConfigError(f"no prompt template {name!r} in package {package!r} ({error})",
                          fix=f"ship {package.replace('.', '/')}/prompts/{name}.jinja") from error
    return _from_text(text, f"{package}:{name}", default_name=name)


@functools.lru_cache(maxsize=256)
def _load_file(path: str, stamp: int) -> PromptTemplate:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read prompt template ({error})", path=path, fix="check the path") from error
    return _from_text(text, path, default_name=Path(path).stem)


def _from_text(text: str, origin: str, *, default_name: str) -> PromptTemplate:
    import yaml

    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if match is None:
        raise ConfigError("template has no YAML front matter", path=origin,
                          fix="start the file with '---', name/version/output, then '---'")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"bad front matter ({error})", path=origin, fix="fix the YAML") from error
    unknown = set(meta) - {"name", "version", "output", "repair", "description"}
    if unknown or "version" not in meta:
        raise ConfigError(f"front matter needs 'version' and knows only name/version/output/repair/description "
                          f"(got {sorted(meta)})", path=origin, fix="fix the front matter keys")
    out = meta.get("output") or {}
    fmt = out.get("format", "text")
    if fmt not in ("json", "tagged", "text"):
        raise ConfigError(f"unknown output format {fmt!r}", path=origin, field="output.format",
                          fix="use json, tagged or text")
    fields_ = {str(k): str(v) for k, v in (out.get("fields") or {}).items()}
    bad = {k: v for k, v in fields_.items() if v not in _TYPES}
    if bad:
        raise ConfigError(f"unknown field types {bad}", path=origin, field="output.fields",
                          fix=f"use {', '.join(_TYPES)}")
    spec = OutputSpec(format=fmt, fields=fields_, optional=tuple(out.get("optional") or ()),
                      ranges={k: (float(v[0]), float(v[1])) for k, v in (out.get("ranges") or {}).items()})
    body = text[match.end():]
    template = PromptTemplate(name=str(meta.get("name", default_name)), version=str(meta["version"]),
                              source=body, output=spec, repair=meta.get("repair", DEFAULT_REPAIR), origin=origin)
    _sections(body, origin)  # fail early on a template without role lines
    return template


def _sections(body: str, origin: str) -> list[tuple[str, str]]:
    parts = _ROLE_LINE.split(body)
    if len(parts) < 3 or parts[0].strip():
        raise ConfigError("template body must start with a [system] or [user] line", path=origin,
                          fix="put [system]/[user]/[assistant] lines before each message")
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


@functools.lru_cache(maxsize=1)
def _jinja_env():
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=False, autoescape=False)


@functools.lru_cache(maxsize=256)
def _compiled(body: str) -> Any:
    """A section body compiled once (compiling costs ~20x a render; a step renders one per document)."""
    return _jinja_env().from_string(body)


def _coerce(value: Any, kind: str) -> Any:
    if isinstance(value, _TYPES[kind]) and not (kind in ("int", "float") and isinstance(value, bool)):
        return value
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.0+)?\s*", value):
            return int(float(value))
    if kind == "float" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "str" and isinstance(value, (int, float)):
        return str(value)
    return None


def _extract_json(text: str, wanted: list[str]) -> dict[str, Any]:
    """The first JSON object in ``text`` (fences and prose around it allowed); else ``"key": value`` pairs."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (m.start() for m in re.finditer(r"\{", candidate)):
            try:
                obj, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and (not wanted or any(k in obj for k in wanted)):
                return obj
    pairs: dict[str, Any] = {}
    for key in wanted:
        match = re.search(rf'"?{re.escape(key)}"?\s*[:=]\s*(-?\d+(?:\.\d+)?|"[^"]*")', text, re.IGNORECASE)
        if match:
            raw = match.group(1)
            pairs[key] = raw.strip('"') if raw.startswith('"') else float(raw) if "." in raw else int(raw)
    if not pairs:
        raise OutputParseError("no JSON object in the reply")
    return pairs
