"""A trainable view of an encoder: what trains, how layers are numbered, and what the weight file holds.

Each supported family says, without touching its inference code:

* which module holds the video tower, and a grad-enabled ``forward`` from
  normalised clips to the (B, D) feature the encoder produces for extraction;
* its transformer blocks in order (``partial`` mode unfreezes the last N;
  layer-wise lr decay numbers parameters 0 = embeddings, 1..depth = blocks,
  depth + 1 = everything after the blocks, as the official VideoMAE
  ``LayerDecayValueAssigner`` does);
* names that never get weight decay beyond norms and biases (position tables, class tokens);
* the state dict to save: the encoder module's own keys, which is what its
  loader (``encoders.weights`` / ``vit3d.load_official`` / the tiny and ViCLIP
  factories) reads back with ``--weights``.

The transformers VideoMAE wrapper trains too: its loader reads a
``from_pretrained`` folder, so its export (:func:`export_hf_videomae`) writes
``model.safetensors`` in transformers' key layout plus ``config.json`` and a
``preprocessor_config.json`` reproducing the encoder's input spec into the run
folder. The other transformers wrappers (X-CLIP, V-JEPA 2, TimeSformer,
ViViT) are not supported yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, EncoderError


class NothingToTrainError(ConfigError):
    """The encoder (or the chosen mode) leaves no parameter to train."""


@dataclass
class TrainableView:
    module: nn.Module  # the whole model the weight file holds
    forward: Callable[[torch.Tensor], torch.Tensor]  # normalised clips -> (B, D), grad-enabled
    blocks: list[nn.Module]
    block_prefix: str  # parameter-name prefix of blocks: f"{block_prefix}{i}."
    tower_prefixes: tuple[str, ...]  # parameters outside these never train (e.g. a text tower)
    embed_prefixes: tuple[str, ...]  # layer 0 of the lr decay
    no_weight_decay: frozenset[str] = field(default_factory=frozenset)
    set_drop_path: Callable[[float], None] | None = None
    export_extra: Callable[[], dict[str, torch.Tensor]] | None = None
    #: writes companion files (config.json ...) into the run folder; given the trained head
    export_files: Callable[[Any, nn.Module, list[str]], dict[str, torch.Tensor]] | None = None

    @property
    def depth(self) -> int:
        return len(self.blocks)

    def layer_id(self, name: str) -> int:
        if name.startswith(self.block_prefix):
            return int(name[len(self.block_prefix) :].split(".", 1)[0]) + 1
        if name.startswith(self.embed_prefixes):
            return 0
        return self.depth + 1

    def in_tower(self, name: str) -> bool:
        return name.startswith(self.tower_prefixes)

    def export_state(self) -> dict[str, torch.Tensor]:
        """The weights to save, detached, contiguous, on CPU, in the loader's key layout."""
        sd = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
        if self.export_extra is not None:
            sd.update({k: v.detach().cpu().contiguous() for k, v in self.export_extra().items()})
        return sd


def _vit3d(encoder: Any) -> TrainableView:
    model = encoder.model
    # a learned position table loaded from a checkpoint lives in a non-persistent buffer;
    # save it under the official name so the loader puts it back
    return TrainableView(
        module=model, forward=encoder.forward_features, blocks=list(model.blocks), block_prefix="blocks.",
        tower_prefixes=("",), embed_prefixes=("patch_embed.",), set_drop_path=model.set_drop_path,
        export_extra=lambda: {"pos_embed": model.pos_embed},
    )


def _tiny(encoder: Any) -> TrainableView:
    from ..encoders.basic.tiny import TinyClip

    model = encoder.model
    if isinstance(model, TinyClip):
        visual, pre, towers = model.visual, "visual.", ("visual.", "visual_proj.")
    else:
        visual, pre, towers = model, "", ("",)
    return TrainableView(
        module=model, forward=encoder.forward_features, blocks=list(visual.blocks), block_prefix=f"{pre}blocks.",
        tower_prefixes=towers, embed_prefixes=(f"{pre}patch_embed.", f"{pre}pos_embed"),
        no_weight_decay=frozenset({f"{pre}pos_embed"}),
    )


def _viclip(encoder: Any) -> TrainableView:
    model = encoder.model
    v = "vision_encoder."
    embeds = ("conv1.", "class_embedding", "positional_embedding", "temporal_positional_embedding", "ln_pre.")
    return TrainableView(
        module=model, forward=encoder.forward_features, blocks=list(model.vision_encoder.transformer.resblocks),
        block_prefix=f"{v}transformer.resblocks.", tower_prefixes=(v,),
        embed_prefixes=tuple(v + e for e in embeds),
        no_weight_decay=frozenset(v + e for e in embeds[1:4]),
    )


def _hf_videomae(encoder: Any) -> TrainableView:
    holder = encoder.model  # .videomae (VideoMAEModel) + .fc_norm (LayerNorm or Identity)
    return TrainableView(
        module=holder, forward=encoder.forward_features, blocks=list(holder.videomae.encoder.layer),
        block_prefix="videomae.encoder.layer.", tower_prefixes=("",), embed_prefixes=("videomae.embeddings.",),
        export_files=lambda out, head, names: export_hf_videomae(encoder, out, head, names),
    )


def export_hf_videomae(encoder: Any, out: Any, head: nn.Module, class_names: list[str]) -> dict[str, torch.Tensor]:
    """The state dict and companion files of a transformers VideoMAE checkpoint folder at ``out``.

    With ``fc_norm`` the folder is a ``VideoMAEForVideoClassification`` whose
    ``classifier`` is the trained head (labels = ``class_names``); without, a
    plain ``VideoMAEModel``. ``preprocessor_config.json`` carries the encoder's
    mean, std, resize and crop, so the reloaded encoder preprocesses the same way.
    """
    import copy
    import json
    from pathlib import Path

    from ..fileio import atomic_write_text

    holder, spec = encoder.model, encoder.spec
    cfg = copy.deepcopy(holder.videomae.config)
    sd = {k: v for k, v in holder.state_dict().items()}
    if isinstance(holder.fc_norm, nn.Identity):
        sd = {k[len("videomae."):]: v for k, v in sd.items()}
        cfg.architectures = ["VideoMAEModel"]
    else:
        sd["classifier.weight"], sd["classifier.bias"] = head.weight, head.bias
        cfg.architectures = ["VideoMAEForVideoClassification"]
        cfg.use_mean_pooling = True
        cfg.id2label = dict(enumerate(class_names))
        cfg.label2id = {c: i for i, c in enumerate(class_names)}
    out = Path(out)
    atomic_write_text(out / "config.json", cfg.to_json_string())
    resample = 3 if spec.preprocess == "transformers-bicubic" else 2
    processor = {
        "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": list(spec.mean), "image_std": list(spec.std),
        "do_resize": True, "size": {"shortest_edge": spec.resize_short_side},
        "do_center_crop": True, "crop_size": {"height": spec.size, "width": spec.size}, "resample": resample,
    }
    atomic_write_text(out / "preprocessor_config.json", json.dumps(processor, indent=2) + "\n")
    return sd


def trainable_view(encoder: Any) -> TrainableView:
    """The :class:`TrainableView` of ``encoder``; one-line errors for encoders that cannot train."""
    from ..encoders.basic.tiny import TinyEncoder
    from ..encoders.torch_encoder import TorchEncoder
    from ..encoders.vit3d import VideoViTEncoder

    name = getattr(encoder, "name", type(encoder).__name__)
    if not isinstance(encoder, TorchEncoder):
        raise NothingToTrainError(
            f"encoder {name!r} is training-free: nothing to train (for an adapter on its features, "
            "see `gesturebench unseen --method head`)"
        )
    if isinstance(encoder, VideoViTEncoder):
        return _vit3d(encoder)
    if isinstance(encoder, TinyEncoder):
        return _tiny(encoder)
    from ..encoders.viclip.encoder import ViCLIPEncoder

    if isinstance(encoder, ViCLIPEncoder):
        return _viclip(encoder)
    from ..encoders.hf.models import VideoMAEEncoder

    if isinstance(encoder, VideoMAEEncoder):
        return _hf_videomae(encoder)
    raise EncoderError(
        f"fine-tuning encoder {name!r} ({type(encoder).__name__}) is not supported yet; "
        "supported: the UMT / VideoMAE V2 / ViCLIP ports, the transformers VideoMAE wrapper, the tiny test presets"
    )


def select_trainable(view: TrainableView, mode: str, unfreeze_blocks: int) -> list[tuple[str, nn.Parameter]]:
    """Set ``requires_grad`` per ``mode`` and return the encoder parameters that train, in name order.

    head: none; partial: the last ``unfreeze_blocks`` blocks and everything after them
    (final norm, projections); full: the whole video tower.
    """
    if mode == "partial" and unfreeze_blocks > view.depth:
        raise ConfigError(f"--unfreeze-blocks {unfreeze_blocks} is more than the encoder's {view.depth} blocks")
    chosen = []
    for name, p in view.module.named_parameters():
        layer = view.layer_id(name)
        train = view.in_tower(name) and (
            mode == "full" or (mode == "partial" and layer > view.depth - unfreeze_blocks)
        )
        p.requires_grad_(train)
        if train:
            chosen.append((name, p))
    return chosen
