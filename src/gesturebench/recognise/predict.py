"""Predict gestures of video files with a fitted recogniser: decode, encode, k-NN, unknown rule.

Queries go through exactly the extraction path of the training features: the same decoder
and sampler (:class:`gesturebench.features.loader.ClipLoader`), the same resize/crop and
normalisation derived from the encoder's spec, the same (verified) encoder, and the project's
exact k-NN (K and L2 from the model). A :class:`Recogniser` is safe to call from several
threads at once (the serve app does): it holds no per-call state.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DecodeError, RecogniserError
from .model import UNKNOWN_LABEL, RecogniserModel, load_model

if TYPE_CHECKING:
    from ..encoders.base import Encoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Neighbour:
    video_id: str
    label: str
    distance: float

    def to_dict(self) -> dict[str, Any]:
        return {"video_id": self.video_id, "label": self.label, "distance": round(self.distance, 6)}


@dataclass(frozen=True)
class Prediction:
    """One video's answer. ``label`` is the voted class or ``"unknown"``; ``voted`` is always
    the k-NN vote. ``confidence`` is the vote share of ``voted`` (votes / k). ``distance`` is
    the query's distance to the nearest training video of ``voted``; ``threshold`` that
    class's unknown threshold (None: rule off)."""

    label: str
    voted: str
    confidence: float
    distance: float
    threshold: float | None
    neighbours: tuple[Neighbour, ...]
    vote_tied: bool
    timings: dict[str, float] = field(default_factory=dict)
    video: str = ""

    @property
    def unknown(self) -> bool:
        return self.label == UNKNOWN_LABEL

    def to_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "voted": self.voted,
            "unknown": self.unknown,
            "distance": round(self.distance, 6),
            "threshold": None if self.threshold is None else round(self.threshold, 6),
            "vote_tied": self.vote_tied,
            "neighbours": [n.to_dict() for n in self.neighbours],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class BadVideo:
    video: str
    reason: str


class Recogniser:
    """A loaded model plus its rebuilt encoder; :meth:`predict_file` answers one video."""

    def __init__(self, model: RecogniserModel, encoder: Encoder):
        from ..data.decode import decode_clip
        from ..data.sampling import SamplerConfig
        from ..features.loader import ClipLoader

        decoder = f"{decode_clip.__module__}.{decode_clip.__qualname__}"
        if model.meta["decoder"] != decoder:
            raise RecogniserError(
                f"the recogniser's features were decoded with {model.meta['decoder']}, which predict cannot use "
                f"(it decodes with {decoder}); extract the training stores with the default decoder"
            )
        self.model = model
        self.encoder = encoder
        self.sampler = SamplerConfig.from_dict(model.meta["sampler"])
        frames = self.sampler.frames_per_video
        self._loader = ClipLoader(decode_clip, self.sampler, encoder.spec, frames)
        self._num_clips = self.sampler.num_clips
        self._ids = model.video_ids
        self._thresholds = model.thresholds

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], device: str = "cpu", weights: str | os.PathLike[str] | None = None
    ) -> Recogniser:
        from .encoder import rebuild_encoder

        model = load_model(path)
        return cls(model, rebuild_encoder(model.meta, device=device, weights=weights))

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.model.class_names

    # ---- stages ----------------------------------------------------------------------------
    def load_clip(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Decoded, resized and cropped uint8 frames (extraction's own loader); DecodeError if bad."""
        _, clip, reason = self._loader(0, str(path))
        if clip is None:
            raise DecodeError(path, reason or "unknown")
        return clip

    def encode_clip(self, clip: np.ndarray) -> np.ndarray:
        """float32 (D,) feature of one loaded clip (several views averaged, as extraction does)."""
        import torch

        from ..encoders.preprocess import normalize

        spec = self.encoder.spec
        n = self._num_clips
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(clip).reshape(n, -1, spec.size, spec.size, 3))
            y = self.encoder.encode(normalize(x.to(self.encoder.device), spec))
            y = y.reshape(n, -1).mean(0) if n > 1 else y[0]
            return y.float().cpu().numpy()

    def classify(self, feature: np.ndarray) -> Prediction:
        """Vote of the k nearest training videos, then the unknown rule."""
        from ..evaluators.knn import knn_neighbors, majority_vote

        m = self.model
        idx, dist = knn_neighbors(m.features, feature[None, :], k=m.k, metric="l2", device="cpu")
        labels = m.labels[idx]
        pred, tied = majority_vote(labels, len(m.class_names))
        c = int(pred[0])
        votes = int((labels[0] == c).sum())
        d_c = float(dist[0][labels[0] == c].min())  # neighbours are nearest first
        thr = None if self._thresholds is None else self._thresholds[c]
        names = m.class_names
        label = UNKNOWN_LABEL if thr is not None and d_c > thr else names[c]
        return Prediction(
            label=label, voted=names[c], confidence=votes / m.k, distance=d_c, threshold=thr,
            neighbours=tuple(
                Neighbour(self._ids[j], names[int(m.labels[j])], float(d)) for j, d in zip(idx[0], dist[0])
            ),
            vote_tied=bool(tied[0]),
        )

    # ---- whole videos ------------------------------------------------------------------------
    def predict_file(self, path: str | os.PathLike[str]) -> Prediction:
        """Decode + encode + k-NN of one video file; :class:`DecodeError` if it cannot be read."""
        t0 = time.perf_counter()
        clip = self.load_clip(path)
        t1 = time.perf_counter()
        feature = self.encode_clip(clip)
        t2 = time.perf_counter()
        pred = self.classify(feature)
        t3 = time.perf_counter()
        timings = {"decode_s": t1 - t0, "encode_s": t2 - t1, "knn_s": t3 - t2, "total_s": t3 - t0}
        return replace(pred, timings=timings, video=str(path))

    def predict_files(self, paths: list[str | os.PathLike[str]]) -> tuple[list[Prediction], list[BadVideo]]:
        """Every file that can be read is predicted; the others are listed with their reason."""
        preds: list[Prediction] = []
        bad: list[BadVideo] = []
        for p in paths:
            try:
                preds.append(self.predict_file(p))
            except DecodeError as exc:
                log.info("skipping %s: %s", p, exc.reason)
                bad.append(BadVideo(str(p), exc.reason))
        return preds, bad

    def describe(self) -> dict[str, Any]:
        """What the page and `/info` show about the model."""
        meta = self.model.meta
        return {
            "classes": list(self.class_names),
            "encoder": meta["encoder"]["name"],
            "k": self.model.k,
            "training_videos": len(self.model),
            "per_class": meta["training"]["per_class"],
            "unknown": {"quantile": meta["unknown"]["quantile"], "thresholds": meta["unknown"]["thresholds"]},
            "sampler": meta["sampler"],
        }
