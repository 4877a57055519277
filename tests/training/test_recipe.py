"""The recipe's pieces with exact expected values: lr schedule, layer decay, weight-decay groups,
drop-path, crop boxes, trainable selection."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gesturebench.encoders import create_encoder
from gesturebench.encoders.vit3d import VideoViTConfig, build_model
from gesturebench.errors import ConfigError
from gesturebench.training.clips import augment, resized_crop_box, rng_for
from gesturebench.training.config import FinetuneConfig
from gesturebench.training.loop import _oom_message, make_head
from gesturebench.training.optim import lr_schedule, parameter_groups
from gesturebench.training.trainable import NothingToTrainError, select_trainable, trainable_view


def test_schedule_warmup_then_cosine_exact():
    cfg = FinetuneConfig(epochs=4, batch_size=32, accumulate=2, lr=1e-3, warmup_epochs=1, warmup_lr=1e-6, min_lr=1e-6)
    s = lr_schedule(cfg, steps_per_epoch=5)
    peak = 1e-3 * 64 / 256
    assert cfg.scaled_lr == pytest.approx(peak)
    assert len(s) == 20
    np.testing.assert_allclose(s[:5], np.linspace(1e-6, peak, 5))
    # cosine over the 15 remaining steps: step 5 is the peak, then half a cosine to min_lr
    np.testing.assert_allclose(s[5], peak)
    np.testing.assert_allclose(s[5 + 7], 1e-6 + 0.5 * (peak - 1e-6) * (1 + math.cos(math.pi * 7 / 15)))
    assert s[-1] > 1e-6 and np.all(np.diff(s[5:]) < 0)


def test_layer_decay_and_weight_decay_groups_of_a_vit_port():
    enc = create_encoder("umt-test-tiny", device="cpu")
    view = trainable_view(enc)
    cfg = FinetuneConfig(layer_decay=0.5, weight_decay=0.05)
    params = select_trainable(view, "full", 1)
    head = make_head(enc.feature_dim, 3, cfg)
    groups = parameter_groups(view, params, head, cfg)
    depth = view.depth
    by_name = {n: g for g in groups for n in g["names"]}
    assert by_name["patch_embed.proj.weight"]["lr_scale"] == 0.5 ** (depth + 1)
    assert by_name["blocks.0.attn.qkv.weight"]["lr_scale"] == 0.5**depth
    assert by_name[f"blocks.{depth - 1}.mlp.fc1.weight"]["lr_scale"] == 0.5
    assert by_name["fc_norm.weight"]["lr_scale"] == 1.0 and by_name["head.weight"]["lr_scale"] == 1.0
    for name in ("blocks.0.norm1.weight", "blocks.0.attn.q_bias", "blocks.0.mlp.fc1.bias", "head.bias", "fc_norm.bias"):
        assert by_name[name]["weight_decay"] == 0.0, name
    for name in ("blocks.0.attn.qkv.weight", "patch_embed.proj.weight", "head.weight"):
        assert by_name[name]["weight_decay"] == 0.05, name
    assert sum(len(g["params"]) for g in groups) == len(params) + 2


def test_tiny_vit_pos_embed_has_no_weight_decay():
    enc = create_encoder("test-tiny-vit", device="cpu")
    view = trainable_view(enc)
    groups = parameter_groups(view, select_trainable(view, "full", 1), make_head(32, 2, FinetuneConfig()), FinetuneConfig())
    by_name = {n: g for g in groups for n in g["names"]}
    assert by_name["pos_embed"]["weight_decay"] == 0.0 and by_name["pos_embed"]["layer"] == 0


def test_modes_select_the_right_parameters():
    enc = create_encoder("test-tiny-clip", device="cpu")
    view = trainable_view(enc)
    assert select_trainable(view, "head", 1) == []
    partial = {n for n, _ in select_trainable(view, "partial", 1)}
    assert partial == {n for n, _ in enc.model.named_parameters()
                       if n.startswith(("visual.blocks.1.", "visual.norm.", "visual_proj."))}
    full = {n for n, _ in select_trainable(view, "full", 1)}
    assert not any(n.startswith("text") for n in full) and "visual.patch_embed.weight" in full
    with pytest.raises(ConfigError, match=r"--unfreeze-blocks 3 is more than the encoder's 2 blocks"):
        select_trainable(view, "partial", 3)


def test_training_free_encoders_have_nothing_to_train():
    with pytest.raises(NothingToTrainError, match=r"encoder 'motion' is training-free: nothing to train"):
        trainable_view(create_encoder("motion", device="cpu"))


def test_drop_path_is_identity_in_eval_and_linear_over_depth():
    cfg = VideoViTConfig(embed_dim=32, depth=3, num_heads=2, patch_size=8, num_frames=2, img_size=16)
    model = build_model(cfg, seed=0)
    x = torch.randn(4, 3, 2, 16, 16, generator=torch.Generator().manual_seed(0))
    ref = model.eval()(x)
    model.set_drop_path(0.2)
    assert [b.drop_path for b in model.blocks] == pytest.approx([0.0, 0.1, 0.2])
    assert torch.equal(model.eval()(x), ref)
    torch.manual_seed(0)
    assert not torch.allclose(model.train()(x), ref)
    model.set_drop_path(0.0)
    assert torch.equal(model.train()(x), ref)
    with pytest.raises(ConfigError, match=r"drop-path rate must be in \[0, 1\); got 1.0"):
        model.set_drop_path(1.0)


def test_crop_boxes_stay_inside_and_follow_the_seed():
    for i in range(50):
        rng = rng_for(3, "augment", f"v{i}", 0)
        top, left, h, w = resized_crop_box(40, 48, (0.08, 1.0), (0.75, 4 / 3), rng)
        assert 0 <= top and 0 <= left and top + h <= 40 and left + w <= 48 and h > 0 and w > 0
        assert 0.08 * 40 * 48 * 0.8 <= h * w <= 40 * 48
    a = resized_crop_box(40, 48, (0.08, 1.0), (0.75, 4 / 3), rng_for(1, "x"))
    assert a == resized_crop_box(40, 48, (0.08, 1.0), (0.75, 4 / 3), rng_for(1, "x"))
    # no draw fits (aspect >= 2 at full area) -> the widest centred crop at the nearest allowed aspect, 48x24
    assert resized_crop_box(40, 48, (1.0, 1.0), (2.0, 3.0), np.random.default_rng(0)) == (8, 0, 24, 48)


def test_augment_keeps_left_right_unless_flip():
    frames = np.zeros((2, 20, 20, 3), np.uint8)
    frames[:, :, :10] = 255  # left half white
    out = augment(frames, 8, (1.0, 1.0), (1.0, 1.0), False, np.random.default_rng(0))
    assert out.shape == (2, 8, 8, 3) and out[0, 4, 0, 0] == 255 and out[0, 4, 7, 0] == 0
    flips = [augment(frames, 8, (1.0, 1.0), (1.0, 1.0), True, np.random.default_rng(s))[0, 4, 0, 0] for s in range(20)]
    assert 0 in flips and 255 in flips


def test_head_init_is_scaled_and_seeded():
    cfg = FinetuneConfig(seed=5)
    a, b = make_head(16, 3, cfg), make_head(16, 3, cfg)
    assert torch.equal(a.weight, b.weight) and torch.count_nonzero(a.bias) == 0
    assert 0 < float(a.weight.detach().abs().max()) <= 2 * 0.02 * 0.001 * (1 + 1e-6)  # truncated at 2 std


def test_config_errors_and_oom_message():
    with pytest.raises(ConfigError, match=r"mode must be one of head, partial, full; got 'some'"):
        FinetuneConfig(mode="some")
    with pytest.raises(ConfigError, match=r"batch_size must be an integer >= 1; got 0"):
        FinetuneConfig(batch_size=0)
    msg = _oom_message(FinetuneConfig(batch_size=16, accumulate=2), torch.device("cuda"))
    assert msg == "CUDA out of memory on cuda at --batch-size 16; try --batch-size 8 --accumulate 4 (same total batch of 32)"
