"""What every task type declares: settings identity, file name, schema check, report section.

A *task type* is one kind of result (k-NN, zero-shot, probe, few-shot, unseen,
finetune, bench). It is declared once, as a :class:`TaskType` subclass, and
registered in :mod:`gesturebench.tasks.registry`; results, report and study
runner look it up by the document's ``task`` instead of branching on names.

Identity: a result's file name is built from :class:`Identity` -- task,
encoder, short weights hash, every input store (role, source, short key), a
readable settings label and a short hash of the settings that define the
evaluation. Two evaluations that differ in any of these get different names;
the same evaluation gets the same name (a cache hit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..fileio import sha256_json

if TYPE_CHECKING:
    from ..report.model import ReportContext, Section

SCHEMA = "gesturebench.result/1"
#: hex digits of store keys, weights and settings hashes in file names
SHORT = 8


def slug(text: Any) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", str(text)).strip("-") or "none"


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_fraction(v: Any) -> bool:
    return is_num(v) and 0.0 <= v <= 1.0


@dataclass(frozen=True)
class Identity:
    """Everything that makes two result files the same evaluation."""

    task: str
    encoder: str
    weights: str | None
    #: (role, source label, store keys) per input, e.g. ("train", "synthetic+target", (k1, k2))
    inputs: tuple[tuple[str, str, tuple[str, ...]], ...]
    #: readable summary of the settings, e.g. "k3-l2"
    label: str
    #: the settings that define the evaluation (hashed into the name)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def settings_hash(self) -> str:
        return sha256_json(dict(self.settings))[:SHORT]

    def filename(self) -> str:
        enc = slug(self.encoder) + (f"@{self.weights[:SHORT]}" if self.weights else "")
        parts = [self.task, enc]
        for role, source, keys in self.inputs:
            parts.append(f"{role}-{slug(source)}" + "".join(f".{str(k)[:SHORT]}" for k in keys))
        parts += [slug(self.label), f"s-{self.settings_hash}"]
        return "__".join(parts) + ".json"

    def full(self) -> dict[str, Any]:
        """Comparable form with full keys and hashes (what must match for a cache hit)."""
        return {
            "task": self.task, "encoder": self.encoder, "weights": self.weights,
            "inputs": [[r, s, list(k)] for r, s, k in self.inputs], "settings": sha256_json(dict(self.settings)),
        }

    def differences(self, other: Identity) -> list[str]:
        """Names of what differs from ``other`` (for labelling report rows and error messages)."""
        out = []
        if self.encoder != other.encoder:
            out.append("encoder")
        if self.weights != other.weights:
            out.append("weights")
        mine, theirs = dict((r, (s, k)) for r, s, k in self.inputs), dict((r, (s, k)) for r, s, k in other.inputs)
        for role in sorted(set(mine) | set(theirs)):
            if mine.get(role) != theirs.get(role):
                out.append(f"{role} stores")
        for key in sorted(set(self.settings) | set(other.settings)):
            if sha256_json(self.settings.get(key)) != sha256_json(other.settings.get(key)):
                out.append(key)
        return out


#: settings that never define an evaluation: where it ran, and what the name already carries
NOT_IDENTITY = ("device", "encoder_weights_sha256", "prompt_file")


def pick(settings: Mapping[str, Any], keys: Sequence[str] | None) -> dict[str, Any]:
    """The identity settings: ``keys`` taken from ``settings`` (absent ones as None); None: all but NOT_IDENTITY."""
    if keys is None:
        return {k: v for k, v in settings.items() if k not in NOT_IDENTITY}
    return {k: settings.get(k) for k in keys}


def weights_of(doc: Mapping[str, Any]) -> str | None:
    s = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
    sha = s.get("encoder_weights_sha256") or doc.get("encoder_weights_sha256")
    return str(sha) if sha else None


class TaskType:
    """One kind of result. Subclasses set the class attributes and override what differs."""

    #: the document's ``task`` value
    name: ClassVar[str] = ""
    #: report section heading
    title: ClassVar[str] = ""
    #: position of the section in the report (lower first)
    order: ClassVar[int] = 100
    #: settings keys that define the evaluation, hashed into the file name (None: all but NOT_IDENTITY)
    identity_settings: ClassVar[tuple[str, ...] | None] = None
    #: a column this task adds to the study tables of classification tasks (zero-shot), or None
    study_column: ClassVar[str | None] = None

    # ---- identity ---------------------------------------------------------------------
    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return self.name

    def inputs(self, doc: Mapping[str, Any]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        return ()

    def identity(self, doc: Mapping[str, Any]) -> Identity:
        settings = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
        return Identity(
            task=self.name, encoder=str(doc.get("encoder", "unknown")), weights=weights_of(doc),
            inputs=self.inputs(doc), label=self.settings_label(settings), settings=pick(settings, self.identity_settings),
        )

    def filename(self, doc: Mapping[str, Any]) -> str:
        return self.identity(doc).filename()

    # ---- schema -----------------------------------------------------------------------
    def validate(self, doc: Mapping[str, Any]) -> str | None:
        """First problem of a document of this task (common fields already checked), or None."""
        return None

    # ---- report -----------------------------------------------------------------------
    def section(self, entries: list[tuple[Any, dict[str, Any]]], ctx: ReportContext) -> Section | None:
        """This task's report section from its ``(path, document)`` entries (None: nothing to show)."""
        return None

    def summary_line(self, doc: Mapping[str, Any]) -> str:
        """One line for the run log and the CLI."""
        return f"{self.name} {doc.get('encoder')}"
