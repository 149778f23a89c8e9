"""User-facing errors: each says what failed, where, and how to fix it, on one line.

Every error a user can fix (bad data, a bad config value, a failed transfer) is a :class:`UserError`; the CLI
prints those as one line (``mixture_builder.boundary``). Any other exception is a bug or an environment
problem and keeps its traceback.
"""

from __future__ import annotations


class UserError(ValueError):
    """An error the user can fix; its message says what failed, where, and how to fix it, on one line."""


class InputError(UserError):
    """Bad user input (a data file, a record, a config field).

    Rendered as ``{where}: {problem} — {fix}``, where ``where`` names the file and the line/record index
    (and the field, when one is at fault).
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | None = None,
        line: int | None = None,
        record: int | None = None,
        field: str | None = None,
        fix: str | None = None,
        reason: str = "invalid_record",
    ) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        self.record = record
        self.field = field
        self.fix = fix
        self.reason = reason
        super().__init__(self.render())

    @property
    def where(self) -> str:
        parts: list[str] = []
        if self.path:
            parts.append(str(self.path))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def render(self) -> str:
        text = f"{self.where}: {self.problem}" if self.where else self.problem
        if self.fix:
            text += f" — {self.fix}"
        return " ".join(text.split())


class ConfigError(InputError):
    """An invalid configuration value (YAML file, CLI flag or dataclass field)."""

    def __init__(self, problem: str, *, path: str | None = None, field: str | None = None, fix: str | None = None):
        super().__init__(problem, path=path, field=field, fix=fix, reason="invalid_config")
