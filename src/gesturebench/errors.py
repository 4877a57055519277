"""One error hierarchy for the whole library.

The CLI turns any :class:`GesturebenchError` into one line on stderr and exit
code 1; everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class GesturebenchError(Exception):
    """Base class for every error the library raises on purpose."""


class ConfigError(GesturebenchError, ValueError):
    """A setting or argument has a value outside what is allowed."""


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise :class:`ConfigError` naming ``value`` and the allowed set."""
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) if not isinstance(a, str) else a for a in allowed)
        raise ConfigError(f"{name} must be one of {shown}; got {value!r}")


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1, else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1; got {value!r}")
    return value


def describe_yaml_error(exc: BaseException) -> str:
    """One line for a PyYAML error: ``at line L, column C: problem`` (PyYAML's own text spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = getattr(exc, "problem", None) or type(exc).__name__
    return f"not valid YAML{at}: {what}"


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as ``file:line`` where known."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ManifestError(GesturebenchError):
    """A manifest failed validation. Carries *every* problem found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "unknown problem"
        more = f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""
        super().__init__(f"invalid manifest: {first}{more}")


class DecodeError(GesturebenchError):
    """A video could not be decoded. Names the file and the reason."""

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot decode {self.path}: {reason}")


class EncoderError(GesturebenchError):
    """Unknown encoder, bad encoder input, or an encoder that cannot run here."""


class WeightsError(EncoderError):
    """A weight file is missing, unsafe, or does not fit the architecture."""


class StoreError(GesturebenchError):
    """A feature store is missing, corrupt, locked, or does not match."""


class EvaluationError(GesturebenchError):
    """Inputs to an evaluator do not fit together (labels, classes, shapes)."""


class ResultError(GesturebenchError):
    """A result file is missing or malformed."""


class TrainingError(GesturebenchError):
    """A fine-tuning run cannot proceed (out of memory, a run folder holding other settings)."""


class RecogniserError(GesturebenchError):
    """A recogniser model folder is missing, damaged, or does not fit its encoder or input."""
