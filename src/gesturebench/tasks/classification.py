"""Classification task types: k-NN, linear probe and zero-shot share one document body.

The body (see :class:`gesturebench.evaluators.metrics.ClassificationDocument`):
``class_names``, ``train`` (store keys, source, counts), ``test``, ``metrics``
(accuracy, mean per-class accuracy, CI, chance), ``confusion``, ``predictions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import TaskType, is_fraction, is_num


def _keys(part: Any) -> tuple[str, ...]:
    if not isinstance(part, dict):
        return ()
    if isinstance(part.get("keys"), list):
        return tuple(str(k) for k in part["keys"])
    return (str(part["key"]),) if part.get("key") else ()


def validate_classification(doc: Mapping[str, Any]) -> str | None:
    for key, typ in (("settings", dict), ("class_names", list), ("metrics", dict),
                     ("train", dict), ("test", dict), ("confusion", list)):
        if not isinstance(doc.get(key), typ):
            return f"{key!r} is missing or not a {typ.__name__}"
    classes = doc["class_names"]
    if not classes or not all(isinstance(c, str) for c in classes):
        return "'class_names' must be a non-empty list of strings"
    m = doc["metrics"]
    for key in ("accuracy", "mean_per_class_accuracy", "chance"):
        if not is_fraction(m.get(key)):
            return f"metrics.{key} must be a number in [0, 1]; got {m.get(key)!r}"
    ci = m.get("ci")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(is_num(v) for v in ci) and ci[0] <= ci[1]):
        return f"metrics.ci must be null or [low, high]; got {ci!r}"
    c = len(classes)
    cm = doc["confusion"]
    if len(cm) != c or not all(isinstance(r, list) and len(r) == c and all(isinstance(v, int) and v >= 0 for v in r) for r in cm):
        return f"'confusion' must be a {c}x{c} matrix of counts"
    if not isinstance(doc["train"].get("source"), str) or not isinstance(doc["test"].get("source"), str):
        return "'train.source' and 'test.source' must be strings"
    if not isinstance(doc["train"].get("keys"), list):
        return "'train.keys' must be a list of store keys"
    return None


class ClassificationTask(TaskType):
    """Shared by k-NN, probe and zero-shot: validation, inputs, study-table section."""

    #: settings keys a valid document must carry
    required_settings: tuple[str, ...] = ()
    supervised = True

    def validate(self, doc: Mapping[str, Any]) -> str | None:
        problem = validate_classification(doc)
        if problem:
            return problem
        for key in self.required_settings:
            if key not in doc["settings"]:
                return f"settings.{key} is missing"
        return None

    def inputs(self, doc: Mapping[str, Any]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        train, test = doc.get("train") or {}, doc.get("test") or {}
        out = []
        if self.supervised:
            out.append(("train", str(train.get("source", "train")), _keys(train)))
        out.append(("test", str(test.get("source", "test")), _keys(test)))
        return tuple(out)

    def column(self, doc: Mapping[str, Any]) -> str:
        """The study-table column of a document: its training source."""
        return str(doc["train"]["source"])

    def method_label(self, settings: Mapping[str, Any]) -> str:
        """Readable method for table titles, e.g. ``k-NN k=3, l2``."""
        return self.name

    def section(self, entries, ctx):
        from ..report.classification import classification_section

        return classification_section(self, entries, ctx)

    def summary_line(self, doc: Mapping[str, Any]) -> str:
        m = doc["metrics"]
        return (f"{self.method_label(doc['settings'])} {doc['encoder']} train {self.column(doc)} "
                f"test {doc['test']['source']}: {100 * m['accuracy']:.1f}%")


class KnnTask(ClassificationTask):
    name = "knn"
    title = "k-NN on frozen features"
    order = 10
    identity_settings = ("k", "metric", "bootstrap", "seed", "confidence")
    required_settings = ("k", "metric")

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return f"k{settings.get('k')}-{settings.get('metric')}"

    def method_label(self, settings: Mapping[str, Any]) -> str:
        return f"k-NN k={settings.get('k')}, {settings.get('metric')}"


class ProbeTask(ClassificationTask):
    name = "probe"
    title = "Linear probe on frozen features"
    order = 20
    # scikit-learn probe (issue 12): the requested regularisation (Cauto, C0.5, wd0.001), never the C a
    # validation search chose; torch-probe documents (weight_decay, epochs) keep their old identity
    identity_settings = ("regularisation", "max_iter", "weight_decay", "epochs", "class_balanced", "bootstrap",
                         "seed")
    required_settings = ("weight_decay",)

    def identity(self, doc: Mapping[str, Any]) -> Any:
        settings = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
        if "regularisation" in settings:  # weight_decay there is derived from the chosen C: not identity
            doc = {**doc, "settings": {k: v for k, v in settings.items() if k != "weight_decay"}}
        return super().identity(doc)

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        if settings.get("regularisation"):
            return str(settings["regularisation"])
        wd = settings.get("weight_decay")
        return f"wd{wd:g}" if is_num(wd) else "wd-none"

    def method_label(self, settings: Mapping[str, Any]) -> str:
        if is_num(settings.get("C_chosen")):
            how = str(settings.get("C_source", "given")).split(":")[0]
            return f"linear probe, C {settings['C_chosen']:g} ({how})"
        wd = settings.get("weight_decay")
        return f"linear probe, weight decay {wd:g}" if is_num(wd) else "linear probe"


class ZeroShotTask(ClassificationTask):
    name = "zeroshot"
    title = "Zero-shot from text descriptions"
    order = 30
    identity_settings = ("prompt_set", "prompts", "bootstrap", "seed", "confidence")
    supervised = False
    study_column = "zero-shot"

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return str(settings.get("prompt_set", "custom"))

    def method_label(self, settings: Mapping[str, Any]) -> str:
        return "zero-shot"  # the prompt set is the column

    def column(self, doc: Mapping[str, Any]) -> str:
        return f"zero-shot ({doc['settings'].get('prompt_set', 'custom')})"


KNN = KnnTask()
PROBE = ProbeTask()
ZEROSHOT = ZeroShotTask()
