"""Presets of the umt family (pure data: no torch, no model code).

Weights: the official single-modality model zoo of OpenGVLab/unmasked_teacher
(``single_modality/MODEL_ZOO.md``; repository licence MIT, no separate weights
licence stated). Evaluation pipeline of the official ``kinetics_sparse``
dataset (mode ``validation``): resize the short side to 224 (long side
truncated with ``int()``, OpenCV bilinear), centre crop 224 (offset rounded),
ImageNet mean/std: recipe ``umt`` (gesturebench.encoders.recipes); 8 frames by
sparse (segment) sampling.

``params_m`` counts the feature extractor without the classifier head;
``gflops`` are multiply-accumulates per 8 x 224 x 224 clip (fvcore convention,
as in the UMT paper), from :func:`gesturebench.encoders.vit3d.gflops_per_clip`.
Both are checked against the built model in tests.
"""

from ..base import IMAGENET_MEAN, IMAGENET_STD, InputSpec
from ..registry import EncoderEntry, register

ZOO = "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/umt/single_modality/"
LICENSE = "MIT (OpenGVLab/unmasked_teacher)"
TARGET = "gesturebench.encoders.umt.model:create"
SPEC = InputSpec(num_frames=8, size=224, tubelet=1, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="CTHW", crop_ratio=1.0,
                 preprocess="umt")
SIZE = {"b16": (768, 85.64, 179.42), "l16": (1024, 303.07, 595.60)}
#: fine-tuned: fc_norm(mean of tokens); pre-training files have no fc_norm: mean of norm(tokens)
POOLING = {"fc_norm": "fc_norm(mean)", "norm_mean": "mean(norm)"}

#: (preset, arch, weight file, pooling, what it is)
PRESETS = (
    ("umt-b16-k710", "b16", "b16_ptk710_f8_res224.pth", "norm_mean",
     "UMT ViT-B/16, K710 pre-training (200 epochs, CLIP-B/16 teacher), no fine-tuning"),
    ("umt-b16-k710-ft-k710", "b16", "b16_ptk710_ftk710_f8_res224.pth", "fc_norm",
     "UMT ViT-B/16, K710 pre-training + K710 fine-tuning (81.9 top-1 K710)"),
    ("umt-b16-k710-ft-k400", "b16", "b16_ptk710_ftk710_ftk400_f8_res224.pth", "fc_norm",
     "UMT ViT-B/16, K710 pre-training + K710 then K400 fine-tuning (87.4 top-1 K400)"),
    ("umt-b16-k710-ft-k600", "b16", "b16_ptk710_ftk710_ftk600_f8_res224.pth", "fc_norm",
     "UMT ViT-B/16, K710 pre-training + K710 then K600 fine-tuning (87.8 top-1 K600)"),
    ("umt-b16-k710-ft-k700", "b16", "b16_ptk710_ftk710_ftk700_f8_res224.pth", "fc_norm",
     "UMT ViT-B/16, K710 pre-training + K710 then K700 fine-tuning (78.5 top-1 K700)"),
    ("umt-l16-k710", "l16", "l16_ptk710_f8_res224.pth", "norm_mean",
     "UMT ViT-L/16, K710 pre-training (200 epochs, CLIP-L/14 teacher), no fine-tuning"),
    ("umt-l16-k710-ft-k710", "l16", "l16_ptk710_ftk710_f8_res224.pth", "fc_norm",
     "UMT ViT-L/16, K710 pre-training + K710 fine-tuning (86.0 top-1 K710)"),
    ("umt-l16-k710-ft-k400", "l16", "l16_ptk710_ftk710_ftk400_f8_res224.pth", "fc_norm",
     "UMT ViT-L/16, K710 pre-training + K710 then K400 fine-tuning (90.3 top-1 K400)"),
)

for _name, _arch, _file, _pool, _desc in PRESETS:
    _dim, _params, _gflops = SIZE[_arch]
    register(
        EncoderEntry(
            name=_name,
            target=TARGET,
            spec=SPEC,
            feature_dim=_dim,
            family="umt",
            description=_desc,
            pooling=POOLING[_pool],
            source=ZOO + _file,
            license=LICENSE,
            params_m=_params,
            gflops=_gflops,
            weights_file=_file,
            kwargs={"arch": _arch, "pooling": _pool},
        )
    )

register(
    EncoderEntry(
        name="umt-test-tiny",
        target=TARGET,
        spec=InputSpec(num_frames=2, size=16, tubelet=1, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="CTHW",
                       preprocess="umt"),
        feature_dim=32,
        family="umt",
        description="UMT architecture, tiny random weights (tests only)",
        pooling=POOLING["fc_norm"],
        source="random initialisation (seed 0)",
        license="n/a",
        params_m=0.03,
        gflops=0.0,
        test_only=True,
        kwargs={"arch": "tiny", "pooling": "fc_norm"},
    )
)
