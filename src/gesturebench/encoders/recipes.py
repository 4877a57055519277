"""Preprocessing recipes: how decoded frames become the square crop an encoder eats.

A recipe is pure data (no numpy, no OpenCV), named in an encoder's
:class:`~gesturebench.encoders.base.InputSpec` (``spec.preprocess``) and applied
by :func:`gesturebench.encoders.preprocess.resize_crop`. Each family's presets
name the recipe of that family's official *single-view evaluation* transform,
so frames match the official pipeline to the uint8 level; ``gesturebench`` is
our own (anti-aliased) recipe, kept as a named option
(``--encoder-opt preprocess=gesturebench``). Sources, per recipe, are in
docs/encoders.md ("Preprocessing recipes").

Fields:

* ``resize``: ``short_side`` (short side to ``spec.resize_short_side``, aspect
  kept, then a centre crop of ``spec.size``) or ``square`` (both sides straight
  to ``spec.size``, aspect not kept, no crop).
* ``long_side``: how the long side's length is rounded: ``round`` (nearest
  integer) or ``trunc`` (Python ``int()``, as ``int(size * long / short)``).
* ``interpolation``: ``area_linear`` (OpenCV INTER_AREA when shrinking,
  INTER_LINEAR when enlarging), ``cv2_linear`` (OpenCV INTER_LINEAR on uint8),
  ``torch_bicubic`` (the float bicubic, a = -0.75, no anti-aliasing, that
  ``torch.nn.functional.interpolate`` computes, clamped to [0, 255] and rounded
  half to even), ``pil_bilinear`` / ``pil_bicubic`` (Pillow's ``Image.resize``,
  which widens its filter when shrinking).
* ``crop_offset``: ``floor`` (``(n - size) // 2``) or ``round`` (Python
  ``round((n - size) / 2)``, halves to even).

A frame that already has the target size is never resampled (the official
``resize_clip`` returns such clips as they are).
"""

from __future__ import annotations

from dataclasses import dataclass

RESIZE_MODES = ("short_side", "square")
LONG_SIDE = ("round", "trunc")
INTERPOLATIONS = ("area_linear", "cv2_linear", "torch_bicubic", "pil_bilinear", "pil_bicubic")
CROP_OFFSETS = ("floor", "round")


@dataclass(frozen=True)
class Recipe:
    name: str
    resize: str
    long_side: str
    interpolation: str
    crop_offset: str
    source: str

    def __post_init__(self) -> None:
        for field_name, allowed in (("resize", RESIZE_MODES), ("long_side", LONG_SIDE),
                                    ("interpolation", INTERPOLATIONS), ("crop_offset", CROP_OFFSETS)):
            if getattr(self, field_name) not in allowed:  # a programming error in the table below
                raise ValueError(f"recipe {self.name}: {field_name} must be one of {allowed}")

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "resize": self.resize, "long_side": self.long_side,
            "interpolation": self.interpolation, "crop_offset": self.crop_offset,
        }


_MAE_STYLE = dict(resize="short_side", long_side="trunc", interpolation="cv2_linear", crop_offset="round")

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("gesturebench", "short_side", "round", "area_linear", "floor",
               "gesturebench's own: anti-aliased shrinking (INTER_AREA), rounded sizes, floored crop offset"),
        Recipe("videomae_v2", **_MAE_STYLE,
               source="OpenGVLab/VideoMAEv2 dataset/datasets.py VideoClsDataset (mode 'validation'): "
                      "video_transforms.Resize(short_side_size, 'bilinear') + CenterCrop(crop_size); "
                      "dataset/functional.py resize_clip/get_resize_sizes"),
        Recipe("videomae", **_MAE_STYLE,
               source="MCG-NJU/VideoMAE kinetics.py / ssv2.py (mode 'validation'): video_transforms.Resize + "
                      "CenterCrop; functional.py resize_clip/get_resize_sizes"),
        Recipe("umt", **_MAE_STYLE,
               source="OpenGVLab/unmasked_teacher single_modality/datasets/kinetics_sparse.py "
                      "VideoClsDataset_sparse (mode 'validation'): Resize + CenterCrop; single_modality/functional.py"),
        Recipe("viclip", "square", "trunc", "torch_bicubic", "floor",
               "OpenGVLab/InternVideo InternVideo1/Pretrain/ViCLIP/dataset/__init__.py create_dataset: "
               "test_transform = transforms.Resize((image_res, image_res), BICUBIC) on uint8 tensors "
               "(torchvision 0.15.2 of viclip.yaml: no anti-aliasing for tensors)"),
        Recipe("viclip-demo", "square", "trunc", "cv2_linear", "floor",
               "OpenGVLab/InternVideo Data/InternVid/viclip/__init__.py frames2tensor: "
               "cv2.resize(frame, (224, 224)) (INTER_LINEAR)"),
        Recipe("transformers", "short_side", "trunc", "pil_bilinear", "floor",
               "huggingface/transformers VideoMAEImageProcessorPil (image_processing_pil_videomae.py): "
               "PIL resize to shortest_edge, resample BILINEAR; image_transforms.center_crop"),
        Recipe("transformers-bicubic", "short_side", "trunc", "pil_bicubic", "floor",
               "huggingface/transformers PIL image processors whose config says resample=3 (BICUBIC), e.g. X-CLIP's"),
    )
}

DEFAULT_RECIPE = "gesturebench"


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; a ValueError naming the allowed ones otherwise (callers wrap it)."""
    try:
        return RECIPES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preprocessing recipe {name!r}; allowed: {', '.join(RECIPES)}") from None
