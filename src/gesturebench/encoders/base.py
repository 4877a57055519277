"""The encoder contract.

Every encoder declares an :class:`InputSpec` and maps a batch of preprocessed
clips to one float32 vector per clip. Preprocessing is *derived* from the spec
(:mod:`gesturebench.encoders.preprocess`), never configured a second time.

Data path::

    uint8 frames (T, H, W, 3)  --resize_crop(spec)-->  uint8 (T, S, S, 3)      [decode workers]
    stack -> uint8 (B, T, S, S, 3)  --normalize(spec)-->  float clips in spec.layout  [encoder device]
    encoder.encode(clips) -> float32 (B, D)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, EncoderError
from .recipes import DEFAULT_RECIPE, get_recipe

if TYPE_CHECKING:
    import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
UNIT_MEAN = (0.0, 0.0, 0.0)
UNIT_STD = (1.0, 1.0, 1.0)

LAYOUTS = ("CTHW", "TCHW")


@dataclass(frozen=True)
class InputSpec:
    """What an encoder eats.

    num_frames: frames per clip the model was built for.
    size: side of the square crop fed to the model.
    tubelet: temporal patch size (num_frames must be a multiple of it).
    mean, std: per-channel normalisation applied to pixels scaled to [0, 1].
    layout: per-clip axis order after the batch axis: ``CTHW`` -> (B, C, T, H, W),
        ``TCHW`` -> (B, T, C, H, W).
    crop_ratio: the short side is resized to ``round(size / crop_ratio)`` and the
        centre ``size`` x ``size`` crop is taken (1.0: resize short side to size;
        0.875: the classic 256 -> 224 evaluation crop).
    preprocess: the name of the resize/crop recipe (:mod:`gesturebench.encoders.recipes`): each
        family's presets name their official evaluation transform; ``gesturebench`` is our own.
    """

    num_frames: int = 8
    size: int = 224
    tubelet: int = 1
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    layout: str = "CTHW"
    crop_ratio: float = 1.0
    preprocess: str = DEFAULT_RECIPE

    def __post_init__(self) -> None:
        for name in ("num_frames", "size", "tubelet"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"InputSpec.{name} must be an integer >= 1; got {v!r}")
        if self.num_frames % self.tubelet:
            raise ConfigError(
                f"InputSpec.num_frames ({self.num_frames}) must be a multiple of tubelet ({self.tubelet})"
            )
        if self.layout not in LAYOUTS:
            raise ConfigError(f"InputSpec.layout must be one of {', '.join(LAYOUTS)}; got {self.layout!r}")
        if len(self.mean) != 3 or len(self.std) != 3 or any(s <= 0 for s in self.std):
            raise ConfigError(f"InputSpec.mean/std must be 3 values with std > 0; got {self.mean!r}/{self.std!r}")
        if not 0.0 < self.crop_ratio <= 1.0:
            raise ConfigError(f"InputSpec.crop_ratio must be in (0, 1]; got {self.crop_ratio!r}")
        try:
            get_recipe(self.preprocess)
        except ValueError as exc:
            raise ConfigError(f"InputSpec.preprocess: {exc}") from None
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))

    @property
    def resize_short_side(self) -> int:
        return int(round(self.size / self.crop_ratio))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"] = list(self.mean)
        d["std"] = list(self.std)
        return d

    def describe(self) -> str:
        return f"{self.num_frames}x{self.size}px t{self.tubelet} {self.layout} {self.preprocess}"


class Encoder(ABC):
    """A frozen video encoder.

    Subclasses set ``name``, ``spec``, ``feature_dim`` and implement
    :meth:`encode`. Torch-module encoders should subclass
    :class:`gesturebench.encoders.torch_encoder.TorchEncoder`.
    """

    #: registry name (preset) this instance was created as
    name: str = "encoder"
    #: bump when the computed function changes (invalidates cached features)
    version: str = "1"
    spec: InputSpec = InputSpec()
    feature_dim: int = 0
    supports_text: bool = False

    def __init__(self) -> None:
        import torch

        self._device = torch.device("cpu")

    @property
    def device(self) -> torch.device:
        return self._device

    def to(self, device: torch.device | str) -> Encoder:
        import torch

        self._device = torch.device(device)
        return self

    @abstractmethod
    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        """Map normalised clips laid out as ``spec.layout`` (batch first) to float32 (B, D)."""

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Map texts to float32 (N, D) in the video embedding space (video-text models only)."""
        raise EncoderError(f"encoder {self.name!r} has no text tower; zero-shot needs a video-text encoder")

    def weights_sha256(self) -> str | None:
        """SHA-256 of the weight file(s) this instance was loaded from; None if training-free."""
        return None

    def identity(self) -> dict[str, Any]:
        """Everything that determines the function this encoder computes (cache keys)."""
        return {
            "name": self.name,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "version": self.version,
            "feature_dim": self.feature_dim,
            "spec": self.spec.to_dict(),
            "weights_sha256": self.weights_sha256(),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.feature_dim}, spec={self.spec.describe()})"
