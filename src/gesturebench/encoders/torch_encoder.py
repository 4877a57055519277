"""Base class for encoders backed by a ``torch.nn.Module``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Encoder

if TYPE_CHECKING:
    import torch


class TorchEncoder(Encoder):
    """Wraps ``self.model``; runs it frozen, in inference mode, bf16 autocast on CUDA.

    Subclasses implement :meth:`forward_features` (the model-specific pooling);
    :meth:`encode` handles device, precision and dtype of the output.
    """

    #: "auto" = bf16 on CUDA, fp32 elsewhere; or fp32 | bf16 | fp16
    precision: str = "auto"

    def __init__(self, model: torch.nn.Module, weights_sha256: str | None = None) -> None:
        super().__init__()
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self._weights_sha256 = weights_sha256

    def to(self, device) -> TorchEncoder:
        super().to(device)
        self.model.to(self.device)
        return self

    def weights_sha256(self) -> str | None:
        return self._weights_sha256

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        import torch

        from ..runtime import autocast_context

        with torch.inference_mode(), autocast_context(self.device, self.precision):
            out = self.forward_features(clips.to(self.device, non_blocking=True))
        return out.float()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())
