"""Preprocessing recipes against independent reference computations.

Each reference below is written out with the library calls the official code makes
(OpenCV's ``resize`` with the sizes its ``get_resize_sizes`` computes and its
``CenterCrop`` offsets; transformers' own PIL image processor; torch's bicubic
``interpolate`` as torchvision's tensor ``Resize`` calls it), not with our helpers.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from gesturebench.encoders import create_encoder
from gesturebench.encoders.base import InputSpec
from gesturebench.encoders.preprocess import resize_crop, target_size
from gesturebench.encoders.recipes import RECIPES
from gesturebench.encoders.registry import get_entry
from gesturebench.errors import ConfigError, EncoderError


def textured(h: int, w: int, t: int = 2, seed: int = 0) -> np.ndarray:
    """Frames with edges, gradients and noise, so every interpolation detail shows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((t, h, w, 3), np.uint8)
    for i in range(t):
        base = 127 + 60 * np.sin(xx / (5.3 + i)) * np.cos(yy / 7.1) + 30 * ((xx + 3 * yy + i) % 23 > 11)
        noise = rng.normal(0, 12, (h, w, 3))
        out[i] = np.clip(base[..., None] + noise + np.array([0, 20, -20]), 0, 255).astype(np.uint8)
    return out


def spec(recipe: str, size: int = 224, crop_ratio: float = 1.0) -> InputSpec:
    return InputSpec(num_frames=2, size=size, preprocess=recipe, crop_ratio=crop_ratio)


# --------------------------------------------------------------------- sizes


@pytest.mark.parametrize("recipe", ["videomae_v2", "videomae", "umt", "transformers"])
def test_official_recipes_truncate_the_long_side(recipe):
    # 224 * 320 / 240 = 298.67: int() gives 298 where rounding gives 299
    assert target_size(240, 320, spec(recipe)) == (224, 298)
    assert target_size(320, 240, spec(recipe)) == (298, 224)
    assert target_size(1080, 1920, spec(recipe)) == (224, 398)  # 398.2


def test_gesturebench_recipe_rounds_the_long_side():
    assert target_size(240, 320, spec("gesturebench")) == (224, 299)


def test_viclip_recipes_squash_to_the_square():
    assert target_size(240, 320, spec("viclip")) == (224, 224)
    assert target_size(1080, 1920, spec("viclip-demo")) == (224, 224)


def test_crop_ratio_sets_the_short_side():
    assert target_size(240, 320, spec("transformers", size=224, crop_ratio=224 / 256)) == (256, 341)


# --------------------------------------------------------------------- pixels


def _official_mae_style(frames: np.ndarray, size: int) -> np.ndarray:
    """VideoMAE / VideoMAE V2 / UMT validation transform, spelled out with OpenCV."""
    h, w = frames.shape[1:3]
    if w < h:
        ow, oh = size, int(size * h / w)
    else:
        oh, ow = size, int(size * w / h)
    out = []
    for f in frames:
        img = f if min(h, w) == size else cv2.resize(f, (ow, oh), interpolation=cv2.INTER_LINEAR)
        x1, y1 = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
        out.append(img[y1 : y1 + size, x1 : x1 + size])
    return np.stack(out)


@pytest.mark.parametrize("recipe", ["videomae_v2", "videomae", "umt"])
@pytest.mark.parametrize("hw", [(240, 320), (240, 321), (321, 240), (1080, 1920), (224, 300), (120, 160)])
def test_mae_style_recipes_match_the_official_transform_exactly(recipe, hw):
    frames = textured(*hw)
    np.testing.assert_array_equal(resize_crop(frames, spec(recipe)), _official_mae_style(frames, 224))


def test_mae_crop_offset_rounds_where_ours_floors():
    # 240x321 -> 224x299: the official CenterCrop starts at round(37.5) = 38, ours at 37
    frames = textured(240, 321)
    resized = cv2.resize(frames[0], (299, 224), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(resize_crop(frames, spec("umt"))[0], resized[:, 38:262])
    assert not np.array_equal(resize_crop(frames, spec("umt"))[0], resized[:, 37:261])


def test_gesturebench_recipe_is_the_previous_behaviour():
    frames = textured(240, 320)
    ref = cv2.resize(frames[1], (299, 224), interpolation=cv2.INTER_AREA)[:, 37:261]
    np.testing.assert_array_equal(resize_crop(frames, spec("gesturebench"))[1], ref)
    up = textured(100, 120)
    ref_up = cv2.resize(up[0], (269, 224), interpolation=cv2.INTER_LINEAR)[:, 22:246]
    np.testing.assert_array_equal(resize_crop(up, spec("gesturebench"))[0], ref_up)


@pytest.mark.parametrize("hw", [(240, 320), (321, 240), (480, 854)])
def test_transformers_recipe_matches_the_transformers_pil_processor(hw):
    from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

    frames = textured(*hw, t=3)
    proc = VideoMAEImageProcessorPil(do_rescale=False, do_normalize=False)
    ref = proc(list(frames), return_tensors="np")["pixel_values"][0]  # (T, C, H, W)
    np.testing.assert_array_equal(resize_crop(frames, spec("transformers")), ref.transpose(0, 2, 3, 1))


def test_transformers_bicubic_recipe_matches_the_processor_with_resample_3():
    from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

    frames = textured(240, 320)
    proc = VideoMAEImageProcessorPil(do_rescale=False, do_normalize=False, resample=3)
    ref = proc(list(frames), return_tensors="np")["pixel_values"][0].transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(resize_crop(frames, spec("transformers-bicubic")), ref)


def test_viclip_demo_recipe_is_cv2_resize_to_the_square():
    frames = textured(240, 320)
    ref = np.stack([cv2.resize(f, (224, 224)) for f in frames])
    np.testing.assert_array_equal(resize_crop(frames, spec("viclip-demo")), ref)


@pytest.mark.parametrize("hw", [(240, 320), (1080, 1920), (100, 150)])
def test_viclip_recipe_matches_torch_bicubic_as_torchvision_calls_it(hw):
    import torch
    import torch.nn.functional as F

    frames = textured(*hw)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()  # torchvision casts uint8 to float32
    y = F.interpolate(x, size=(224, 224), mode="bicubic", align_corners=False, antialias=False)
    ref = y.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    ours = resize_crop(frames, spec("viclip"))
    diff = np.abs(ours.astype(int) - ref.astype(int))
    # float32 sums in another order can land on the other side of a .5 in a handful of pixels
    assert diff.max() <= 1
    assert (diff > 0).mean() < 1e-3


def test_a_frame_already_at_size_is_left_alone():
    frames = textured(224, 300)
    out = resize_crop(frames, spec("umt"))
    np.testing.assert_array_equal(out, frames[:, :, 38:262])  # round(76 / 2) = 38


# --------------------------------------------------------------------- presets and options


@pytest.mark.parametrize(
    "name, recipe",
    [
        ("umt-b16-k710-ft-k400", "umt"),
        ("videomae-b16-hybrid-ssv2", "videomae"),
        ("videomaev2-b16-k710-distill", "videomae_v2"),
        ("viclip-b16-internvid10m-flt", "viclip"),
        ("videomae-b16-ssv2-hf", "transformers"),
        ("xclip-b32-k400", "transformers-bicubic"),
        ("pixels", "gesturebench"),
        ("motion", "gesturebench"),
    ],
)
def test_each_family_names_its_recipe(name, recipe):
    assert get_entry(name).spec.preprocess == recipe


def test_unknown_recipe_in_a_spec_is_refused():
    with pytest.raises(ConfigError, match=r"unknown preprocessing recipe 'bogus'; allowed: gesturebench, "):
        InputSpec(preprocess="bogus")


def test_encoder_opt_preprocess_swaps_the_recipe_and_changes_the_identity():
    enc = create_encoder("umt-test-tiny", device="cpu")
    ours = create_encoder("umt-test-tiny", device="cpu", preprocess="gesturebench")
    assert enc.spec.preprocess == "umt" and ours.spec.preprocess == "gesturebench"
    assert replace(ours.spec, preprocess="umt") == enc.spec
    assert enc.identity()["spec"]["preprocess"] == "umt"
    assert enc.identity() != ours.identity()


def test_encoder_opt_preprocess_unknown_is_one_clear_error():
    with pytest.raises(EncoderError, match=r"encoder 'pixels': unknown preprocess recipe 'area'; allowed: gesturebench"):
        create_encoder("pixels", device="cpu", preprocess="area")


def test_recipe_is_part_of_the_extraction_settings(tmp_path):
    from gesturebench.features import extract

    class _M:
        records: list = []

        def content_hash(self):
            return "m"

        def abspath(self, rec):  # pragma: no cover - no records
            return rec

    from gesturebench.data.sampling import SamplerConfig

    a = extract.extraction_settings(_M(), create_encoder("pixels", device="cpu"), SamplerConfig(), resize_crop)
    b = extract.extraction_settings(_M(), create_encoder("pixels", device="cpu", preprocess="umt"), SamplerConfig(),
                                    resize_crop)
    assert a["preprocess"]["recipe"] == "gesturebench" and b["preprocess"]["recipe"] == "umt"
    from gesturebench.features.store import cache_key

    assert cache_key(a) != cache_key(b)


def test_every_recipe_has_a_source():
    for r in RECIPES.values():
        assert r.source and r.name in RECIPES
