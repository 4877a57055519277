"""The body model: convex, volumetric parts attached to skeleton joints.

Each part is a point cloud in its joint's local frame whose projected convex
hull is the part's exact silhouette (the hull of a convex solid's projected
points is the projection of the solid). Capsules (limbs) are the hull of two
spheres; the trunk is the hull of stacked ellipsoids; the ``target`` style
swaps these for bevelled boxes (a different body model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .skeleton import JOINT_INDEX, Body


def _sphere_dirs() -> np.ndarray:
    """26 unit directions (cube corners, edge and face centres)."""
    g = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1) if (x, y, z) != (0, 0, 0)], float)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


SPHERE = _sphere_dirs()
_BOX = np.array([(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
#: bevelled box: corners pulled in on each axis in turn (24 points).
BOX = np.concatenate([_BOX * np.where(np.eye(3)[k] > 0, 0.8, 1.0) for k in range(3)])


@dataclass
class Part:
    name: str
    joint: int
    points: np.ndarray       # (N, 3) in the joint frame
    centre: np.ndarray       # (3,) joint frame, used for depth sort and shading
    axis: np.ndarray         # (3,) joint frame, long axis (zeros: round part)
    radius: float            # metres, for shading offsets
    colour: str              # key into the colour table
    layers: int = 3          # shading layers (3: dark rim, lit body, highlight)
    decal_of: str = ""       # drawn right after this part (bands, patches)


def capsule(a, b, ra, rb=None, box=False) -> np.ndarray:
    rb = ra if rb is None else rb
    dirs = BOX if box else SPHERE
    return np.concatenate([np.asarray(a, float) + ra * dirs, np.asarray(b, float) + rb * dirs])


def ellipsoid(c, radii, box=False) -> np.ndarray:
    return np.asarray(c, float) + (BOX if box else SPHERE) * np.asarray(radii, float)


def build_parts(body: Body, style: str, headgear: str, has_pack: bool) -> list[Part]:
    """The figure's parts for ``body``; ``style`` 'target' uses bevelled boxes."""
    box = style == "target"
    s = body.scale
    w = s * (0.85 + 0.15 * body.girth)
    g = body.girth
    lw = w * 1.18  # limb widths include clothing
    off = body.offsets()
    J = JOINT_INDEX
    parts: list[Part] = []

    def add(name, joint, pts, centre, colour, axis=(0, 0, 0), radius=0.05, layers=3, decal_of=""):
        parts.append(Part(name, J[joint], np.asarray(pts, float), np.asarray(centre, float),
                          np.asarray(axis, float), radius, colour, layers, decal_of))

    # trunk
    add("pelvis", "pelvis", ellipsoid((0, -0.02 * s, 0), (0.16 * w, 0.10 * s, 0.105 * w * g), box),
        (0, -0.02 * s, 0), "trousers", radius=0.14 * w)
    add("abdomen", "spine", np.concatenate([ellipsoid((0, 0.02 * s, 0), (0.145 * w, 0.08 * s, 0.105 * w * g), box),
                                            ellipsoid((0, 0.17 * s, 0), (0.155 * w, 0.08 * s, 0.11 * w * g), box)]),
        (0, 0.10 * s, 0), "shirt", radius=0.14 * w)
    chest_pts = np.concatenate([
        ellipsoid((0, 0.05 * s, 0.0), (0.15 * w, 0.08 * s, 0.115 * w * g), box),
        ellipsoid((0, 0.15 * s, 0.0), (0.19 * w * body.shoulder_width, 0.07 * s, 0.115 * w * g), box),
    ])
    add("chest", "chest", chest_pts, (0, 0.10 * s, 0), "shirt", radius=0.16 * w)
    add("chest_front", "chest", ellipsoid((0, 0.1 * s, 0.092 * w * g), (0.12 * w, 0.1 * s, 0.03 * w), box),
        (0, 0.11 * s, 0.13 * w * g), "shirt_front", radius=0.1 * w, layers=2)
    if has_pack:
        add("pack", "chest", ellipsoid((0, 0.09 * s, -0.16 * w * g), (0.13 * w, 0.15 * s, 0.07 * w), not box),
            (0, 0.09 * s, -0.17 * w * g), "pack", radius=0.12 * w)
    add("neck", "neck", capsule((0, 0.0, 0), (0, 0.09 * s, 0.01), 0.052 * w), (0, 0.05 * s, 0), "skin",
        axis=(0, 1, 0), radius=0.05 * w, layers=2)
    head_c = (0, 0.105 * s, 0.012 * s)
    add("head", "head", ellipsoid(head_c, (0.09 * s, 0.12 * s, 0.105 * s), box and headgear == "helmet"),
        head_c, "skin", radius=0.09 * s)
    if headgear == "helmet":
        add("helmet", "head", ellipsoid((0, 0.15 * s, 0.0), (0.11 * s, 0.085 * s, 0.12 * s), False),
            (0, 0.17 * s, -0.01 * s), "hair", radius=0.1 * s, decal_of="head")
    elif headgear == "cap":
        add("cap", "head", np.concatenate([ellipsoid((0, 0.16 * s, 0.0), (0.092 * s, 0.07 * s, 0.105 * s)),
                                           ellipsoid((0, 0.14 * s, 0.09 * s), (0.07 * s, 0.012 * s, 0.06 * s))]),
            (0, 0.16 * s, 0.0), "hair", radius=0.09 * s, decal_of="head")
    else:  # hair: a cap over the top and back of the skull, drawn in depth order
        add("hair", "head", ellipsoid((0, 0.145 * s, -0.02 * s), (0.098 * s, 0.1 * s, 0.104 * s)),
            (0, 0.14 * s, -0.03 * s), "hair", radius=0.09 * s)

    for side in ("l", "r"):
        ua, fa, hd = off[J[f"{side}_elbow"]], off[J[f"{side}_wrist"]], off[J[f"{side}_hand"]]
        add(f"{side}_upper_arm", f"{side}_shoulder", capsule((0, 0, 0), ua, 0.058 * lw * g, 0.046 * lw * g, box),
            ua / 2, "shirt", axis=(0, -1, 0), radius=0.05 * w * g)
        add(f"{side}_forearm", f"{side}_elbow", capsule((0, 0, 0), fa, 0.045 * lw * g, 0.035 * lw, box),
            fa / 2, "sleeve", axis=(0, -1, 0), radius=0.04 * w * g)
        add(f"{side}_hand", f"{side}_wrist", ellipsoid(hd * 0.8, (0.042 * s, 0.07 * s, 0.022 * s)),
            hd * 0.8, "glove", axis=(0, -1, 0), radius=0.035 * s, layers=2)
        if side == "r":  # an armband marks the right arm from every side
            add("r_armband", "r_shoulder", capsule(ua * 0.35, ua * 0.55, 0.062 * lw * g, 0.056 * lw * g, box),
                ua * 0.45, "armband", axis=(0, -1, 0), radius=0.05 * w, layers=2, decal_of="r_upper_arm")
        th, sh = off[J[f"{side}_knee"]], off[J[f"{side}_ankle"]]
        add(f"{side}_thigh", f"{side}_hip", capsule((0, 0.02 * s, 0), th, 0.085 * lw * g, 0.06 * lw * g, box),
            th / 2, "trousers", axis=(0, -1, 0), radius=0.07 * w * g)
        add(f"{side}_shin", f"{side}_knee", capsule((0, 0, 0), sh, 0.058 * lw * g, 0.045 * lw, box),
            sh / 2, "trousers", axis=(0, -1, 0), radius=0.05 * w * g)
        foot = np.concatenate([ellipsoid((0, -0.04 * s, 0.0), (0.05 * s, 0.045 * s, 0.06 * s), box),
                               ellipsoid((0, -0.055 * s, 0.13 * s), (0.045 * s, 0.03 * s, 0.06 * s), box)])
        add(f"{side}_boot", f"{side}_ankle", foot, (0, -0.05 * s, 0.06 * s), "boots", axis=(0, 0, 1),
            radius=0.05 * s, layers=2)
    return parts


#: face features in the head frame (eye, eye, mouth), drawn when the face is seen.
def face_points(body: Body) -> np.ndarray:
    s = body.scale
    return np.array([(0.034 * s, 0.125 * s, 0.108 * s), (-0.034 * s, 0.125 * s, 0.108 * s),
                     (0.0, 0.06 * s, 0.104 * s), (0.0, 0.1 * s, 0.124 * s)])
