"""Zero-shot classification of a feature store from text descriptions of the classes.

Wires the stages for ``gesturebench zeroshot``: load the store, rebuild the
video-text encoder that extracted it, embed the class prompts with its text
tower, classify by cosine similarity to the prompt-ensembled class prototypes
(:mod:`gesturebench.evaluators.zeroshot`) and write the result file.

Video features and text embeddings must come from the same model: the encoder
is taken from the store's metadata, and an ``encoder_name`` or ``weights``
that would give a different model (other name, other weights SHA-256) is
refused rather than silently compared across embedding spaces.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, EncoderError
from .common import Outcome, finish, lookup, request_identity

if TYPE_CHECKING:
    from ..encoders.base import Encoder
    from ..types import FeatureSet

log = logging.getLogger(__name__)

#: Prompts embedded per ``encode_text`` call.
TEXT_BATCH = 256

SAME_MODEL = "features and text embeddings must come from the same model"


def stored_encoder(test: FeatureSet) -> tuple[str | None, str | None]:
    """``(encoder name, weights SHA-256)`` recorded in a feature set's metadata (None when absent)."""
    from ..evaluators.common import encoder_name_of

    name = encoder_name_of(test)
    meta = test.meta if isinstance(test.meta, dict) else {}
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    enc = settings.get("encoder") or meta.get("encoder")
    sha = enc.get("weights_sha256") if isinstance(enc, dict) else None
    return (None if name == "unknown" else name), (str(sha) if sha else None)


def text_presets() -> str:
    """Registered presets with a text tower, test-only ones last, for error messages."""
    from ..encoders.registry import list_encoders

    entries = [e for e in list_encoders() if e.supports_text]
    names = ", ".join(e.name for e in entries if not e.test_only) or "none"
    tests = [e.name for e in entries if e.test_only]
    return names + (f" (tests: {', '.join(tests)})" if tests else "")


def no_text_tower(name: str) -> EncoderError:
    return EncoderError(
        f"encoder {name} has no text tower; zero-shot needs a video-text encoder: {text_presets()}"
    )


def check_same_model(
    store: str, stored_name: str | None, stored_sha: str | None, name: str, sha: str | None,
    weights: str | os.PathLike[str] | None = None,
) -> None:
    """Refuse an encoder (name, weights hash) other than the one that extracted ``store``."""
    if stored_name is not None and name != stored_name:
        raise ConfigError(f"--encoder {name} does not match the encoder that extracted {store} ({stored_name}); {SAME_MODEL}")
    if stored_sha is not None and sha != stored_sha:
        what = f"--weights {weights}" if weights is not None else f"encoder {name}'s default weights"
        hint = "" if weights is not None else " (pass --weights with the file it was extracted with)"
        raise ConfigError(
            f"{what} (sha256 {str(sha)[:12]}) differ from the weights that extracted {store} "
            f"(sha256 {stored_sha[:12]}); {SAME_MODEL}{hint}"
        )


def embed_texts(encoder: Encoder, texts: Sequence[str], batch: int = TEXT_BATCH) -> Any:
    """``encoder.encode_text`` over ``texts`` in batches -> float32 numpy (N, D)."""
    import numpy as np

    parts = []
    for start in range(0, len(texts), batch):
        out = encoder.encode_text(list(texts[start : start + batch]))
        out = out.detach().float().cpu().numpy() if hasattr(out, "detach") else np.asarray(out, np.float32)
        parts.append(out)
    return np.concatenate(parts, axis=0)


def run_zero_shot(
    test_store: str | os.PathLike[str] | FeatureSet,
    encoder_name: str | None = None,
    weights: str | os.PathLike[str] | None = None,
    prompts: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    device: str = "auto",
    bootstrap: int = 1000,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    *,
    prompt_set: str | None = None,
    encoder: Encoder | None = None,
    encoder_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    encoder_factory: Callable[[], Encoder] | None = None,
) -> Outcome:
    """Zero-shot accuracy of the videos in ``test_store`` from class prompts.

    ``test_store``: a feature store folder or a loaded :class:`FeatureSet`.
    ``encoder_name``/``weights``: default to the encoder recorded in the store;
    anything that differs from it (name or weights SHA-256) is a :class:`ConfigError`.
    ``prompts``: a YAML prompt file, a ``{class: [prompt, ...]}`` mapping, or None for
    the packaged RoCoG-v2 set. ``out``: result ``.json`` file or folder (templated
    name); None writes nothing and returns ``(result, None)``. ``encoder``: an
    already built encoder to use instead of creating one (checked the same way).
    ``encoder_options``: keyword options for the encoder's factory (``--encoder-opt``), e.g.
    ``tokenizer`` or the ``seed`` of a test preset; they must rebuild the model that
    extracted the store (same weights SHA-256), and are refused with a given ``encoder``.
    ``encoder_factory``: builds the store's model only when one is needed (the study runner's
    cache), so a cached result costs no model build; the model is still checked against the store.
    Returns an :class:`~gesturebench.api.common.Outcome`; with ``out``, the same evaluation
    already there is a cache hit (no model is built) unless ``overwrite``.
    """
    from ..encoders.registry import create_encoder, get_entry
    from ..evaluators.zeroshot import evaluate_zero_shot, flatten_prompts, load_prompts
    from ..types import FeatureSet

    if isinstance(test_store, FeatureSet):
        test, label = test_store, test_store.key or "the test features"
    else:
        from ..features.store import FeatureStore

        test, label = FeatureStore(test_store).load(), str(test_store)

    if encoder is not None and encoder_options:
        raise ConfigError("encoder_options apply only when run_zero_shot builds the encoder; got an encoder too")
    stored_name, stored_sha = stored_encoder(test)
    name = encoder.name if encoder is not None else encoder_name or stored_name
    if name is None:
        raise ConfigError(f"feature store {label} does not record its encoder; pass --encoder")
    check_same_model(label, stored_name, None, name, None)
    if encoder is None and not get_entry(name).supports_text:
        raise no_text_tower(name)

    # Prompts before the (possibly slow) model build: a bad file fails fast.
    if prompts is None or isinstance(prompts, (str, os.PathLike)):
        set_name, table = load_prompts(prompts)
        prompt_file = str(prompts) if prompts is not None else "package:rocog_prompts.yaml"
    else:
        set_name, table = "custom", {str(k): [str(p) for p in v] for k, v in prompts.items()}
        prompt_file = None
    set_name = prompt_set or set_name
    texts, sizes = flatten_prompts(table, test.class_names)

    ident = request_identity(
        "zeroshot", {"prompt_set": set_name, "prompts": {c: list(table[c]) for c in test.class_names},
                     "bootstrap": bootstrap, "seed": seed}, test)
    # a cache hit needs no model -- unless the caller asked for a model of their own, which must be
    # checked against the store first (a wrong --weights is an error even when the result exists)
    checks_model = encoder is not None or weights is not None or bool(encoder_options)
    hit = None if checks_model else lookup(out, ident, overwrite)
    if hit is not None:
        return hit

    if encoder is None and encoder_factory is not None:
        encoder = encoder_factory()
    if encoder is None:
        encoder = create_encoder(name, weights=weights, device=device, **dict(encoder_options or {}))
    if not getattr(encoder, "supports_text", False):
        raise no_text_tower(name)
    sha = encoder.weights_sha256()
    check_same_model(label, stored_name, stored_sha, name, sha, weights)
    hit = lookup(out, ident, overwrite) if checks_model else None
    if hit is not None:
        return hit

    log.info("embedding %d prompts (%s) with %s", len(texts), set_name, name)
    text_emb = embed_texts(encoder, texts)
    result = evaluate_zero_shot(
        test, text_emb, group_sizes=sizes, prompt_set=set_name, encoder=name, bootstrap=bootstrap, seed=seed
    )
    settings = {
        **result.settings,
        "prompt_file": prompt_file,
        "prompts": {c: list(table[c]) for c in test.class_names},
        "encoder_weights_sha256": sha,
    }
    result = dataclasses.replace(result, settings=settings)
    return finish(result, out, overwrite, ident)
