"""How far our frames are from each family's official evaluation transform, before and after recipes.

For each family the reference is computed with the calls the official code makes
(OpenCV resize at the sizes of its get_resize_sizes + CenterCrop offsets for
VideoMAE / VideoMAE V2 / UMT; torch's bicubic interpolate as torchvision's tensor
Resize calls it for ViCLIP; transformers' own PIL image processor for the
Hugging Face presets). "before" is the gesturebench recipe every preset used
until issue 12; "after" is the family's recipe. Frames: one synthetic gesture
frame rendered by gesturebench (320 x 320, cropped to 240 x 320, and the same
frame enlarged to 1080 x 1920), so the numbers describe rendered content, not
camera footage.

    .venv/bin/python benchmarks/preprocess_fidelity.py
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from gesturebench.encoders.base import InputSpec
from gesturebench.encoders.preprocess import resize_crop


def rendered_frames() -> dict[str, np.ndarray]:
    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip

    spec = load_gestures(None)[0]
    clip = render_clip(sample_params(0, "default", "ground", spec, 0, 320, 16), spec)
    f = clip.frames[len(clip.frames) // 2][40:280]  # 240 x 320, content at its native resolution
    return {"240x320": f[None], "1080x1920": cv2.resize(f, (1920, 1080), interpolation=cv2.INTER_CUBIC)[None]}


def mae_reference(frames: np.ndarray, size: int = 224) -> np.ndarray:
    h, w = frames.shape[1:3]
    oh, ow = (int(size * h / w), size) if w < h else (size, int(size * w / h))
    out = []
    for f in frames:
        img = cv2.resize(f, (ow, oh), interpolation=cv2.INTER_LINEAR)
        x1, y1 = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
        out.append(img[y1 : y1 + size, x1 : x1 + size])
    return np.stack(out)


def viclip_reference(frames: np.ndarray, size: int = 224) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    y = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=False)
    return y.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def hf_reference(frames: np.ndarray) -> np.ndarray:
    from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

    out = VideoMAEImageProcessorPil(do_rescale=False, do_normalize=False)(list(frames), return_tensors="np")
    return out["pixel_values"][0].transpose(0, 2, 3, 1)


def main() -> None:
    print(f"preprocessing fidelity, load average {os.getloadavg()}")
    cases = (("umt / videomae / videomae_v2", "umt", mae_reference), ("viclip", "viclip", viclip_reference),
             ("transformers (hf presets)", "transformers", hf_reference))
    for label, frames in rendered_frames().items():
        for family, recipe, ref_fn in cases:
            ref = ref_fn(frames).astype(np.int16)
            before = resize_crop(frames, InputSpec(num_frames=1, preprocess="gesturebench")).astype(np.int16)
            after = resize_crop(frames, InputSpec(num_frames=1, preprocess=recipe)).astype(np.int16)
            print(f"{label} {family}: mean |diff| before {np.abs(before - ref).mean():.3f}, "
                  f"after {np.abs(after - ref).mean():.4f} (max {np.abs(after - ref).max()}) uint8 levels")


if __name__ == "__main__":
    main()
