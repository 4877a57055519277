"""Software renderer: perspective camera, painter's algorithm, layered Lambert shading.

Per video the background (sky, textured ground, clutter, the subject's
shadow) is rendered once, with a margin so camera shake can crop it. Per
frame the figure's parts are transformed with one ``einsum``, projected, and
drawn far-to-near as anti-aliased convex polygons (``cv2.fillConvexPoly`` with
``LINE_AA`` and 4 sub-pixel bits): a dark rim, a lit body shifted toward the
light, and a highlight, which reads as rounded volume. Post effects (motion
blur, defocus, sensor noise, handheld roll) follow; compression is the
encoder's job.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .camera import Camera, look_at, make_camera  # noqa: F401 - re-exported
from .figure import build_parts, face_points
from .gestures import GestureSpec, Performance, animate
from .skeleton import JOINT_INDEX, Body, forward_kinematics

SHIFT = 4            # sub-pixel bits for cv2 drawing
ONE = 1 << SHIFT


def rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


_TILES: dict[tuple[int, int, int], np.ndarray] = {}
TILE_VARIANTS = 16


def _noise_tile(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Seamlessly tiling smooth noise in [0, 1], (n, n) float32.

    One of ``TILE_VARIANTS`` tiles built from fixed seeds (cached per process),
    picked, flipped and rolled by ``rng``: varied, reproducible and cheap.
    """
    variant = int(rng.integers(0, TILE_VARIANTS))
    key = (n, cells, variant)
    if key not in _TILES:
        small = np.random.default_rng([n, cells, variant]).random((cells, cells)).astype(np.float32)
        big = cv2.resize(np.tile(small, (3, 3)), (3 * n, 3 * n), interpolation=cv2.INTER_CUBIC)
        _TILES[key] = np.ascontiguousarray(np.clip(big[n:2 * n, n:2 * n], 0, 1))
    tile = _TILES[key]
    flips, dy, dx = rng.integers(0, 4), rng.integers(0, n), rng.integers(0, n)
    if flips & 1:
        tile = tile[::-1]
    if flips & 2:
        tile = tile.T
    return np.ascontiguousarray(np.roll(tile, (int(dy), int(dx)), (0, 1)))


def light_dir(p: dict) -> np.ndarray:
    az, el = np.radians(p["light_azimuth"]), np.radians(p["light_elevation"])
    return np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])


def _shade(colour: np.ndarray, lam: float, p: dict) -> tuple:
    k = p["ambient"] + p["light_intensity"] * max(lam, 0.0)
    return tuple(float(x) for x in np.clip(colour * k, 0, 255))


def _draw_convex(img: np.ndarray, pts_fixed: np.ndarray, colour: tuple) -> None:
    cv2.fillConvexPoly(img, pts_fixed, colour, cv2.LINE_AA, SHIFT)


def draw_solid(img, uv: np.ndarray, colour: np.ndarray, lam: float, shift_dir: np.ndarray, r_px: float,
               p: dict, layers: int = 3) -> None:
    """Draw the convex hull of projected points with ``layers`` shading layers."""
    fixed = np.round(uv * ONE).astype(np.int32)
    hull = cv2.convexHull(fixed)
    if hull is None or len(hull) < 3:
        return
    hull = hull.reshape(-1, 2)
    _draw_convex(img, hull, _shade(colour, lam * 0.3 - 0.15, p))
    if layers < 2 or r_px < 1.0:
        return
    c = hull.mean(0)
    sh = shift_dir * r_px * ONE
    mid = (c + (hull - c) * 0.78 + 0.18 * sh).astype(np.int32)
    _draw_convex(img, mid, _shade(colour, lam, p))
    if layers >= 3 and r_px >= 2.0:
        hi = (c + (hull - c) * 0.42 + 0.40 * sh).astype(np.int32)
        _draw_convex(img, hi, _shade(colour, lam * 1.18 + 0.08, p))


def _clutter(img, p: dict, cam: Camera, rng: np.random.Generator, L: np.ndarray, box: bool) -> None:
    """Rocks, bushes, trees (or crates for the target style) behind/beside the subject."""
    from .figure import BOX, SPHERE

    objs = []
    cam_xz = cam.centre[[0, 2]]
    sub_dist = np.linalg.norm(cam_xz)
    tries = 0
    while len(objs) < p["clutter"] and tries < 200:
        tries += 1
        ang, rad = rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 30.0)
        xz = np.array([rad * np.sin(ang), rad * np.cos(ang)])
        if np.linalg.norm(xz - cam_xz) < sub_dist + 1.0:
            continue  # never between camera and subject
        kind = int(rng.integers(0, 3))
        objs.append((np.linalg.norm(xz - cam_xz), kind, xz, rng.uniform(0.4, 1.2), rng.uniform(0.7, 1.3)))
    to_cam = None
    for _, kind, xz, sz, tone in sorted(objs, key=lambda o: -o[0]):
        x, z = xz
        if box:
            solids = [(np.array([x, 0.45 * sz, z]) + BOX * np.array([0.5, 0.45, 0.5]) * sz, rgb(p["clutter_a"]) * tone)]
        elif kind == 0:
            solids = [(np.array([x, 0.1 * sz, z]) + SPHERE * np.array([0.5, 0.3, 0.45]) * sz, rgb(p["clutter_b"]) * tone)]
        elif kind == 1:
            solids = [(np.array([x, 0.45 * sz, z]) + SPHERE * 0.55 * sz, rgb(p["clutter_a"]) * tone)]
        else:
            solids = [(np.concatenate([np.array([x, 0.0, z]) + SPHERE * 0.12 * sz,
                                       np.array([x, 2.2 * sz, z]) + SPHERE * 0.1 * sz]), np.array([90.0, 65, 45]) * tone),
                      (np.array([x, 2.6 * sz, z]) + SPHERE * 1.0 * sz, rgb(p["clutter_a"]) * tone * 0.8)]
        for pts, colour in solids:
            uv, depth = cam.project(pts)
            if (cam.to_cam(pts)[:, 2] < 0.5).any():
                continue
            to_cam = cam.centre - pts.mean(0)
            lam = float(L @ (to_cam / np.linalg.norm(to_cam)))
            r_px = cam.focal * 0.5 * sz / float(depth.mean())
            draw_solid(img, uv, colour, 0.5 + 0.5 * lam, np.zeros(2), r_px, p, layers=2)


def render_background(p: dict, cam: Camera, width: int, rng: np.random.Generator) -> np.ndarray:
    """Sky, hills, textured ground with fog, clutter and the subject's shadow: (width, width, 3) uint8.

    Sky and ground are evaluated at half resolution and upscaled (4x fewer
    rays; the smoothing also anti-aliases the horizon).
    """
    full = width
    width = (width + 1) // 2
    ys, xs = (np.mgrid[0:width, 0:width].astype(np.float32) + 0.5) * (full / width) - 0.5
    dirs_cam = np.stack([(xs - cam.cx) / cam.focal, (ys - cam.cy) / cam.focal, np.ones_like(xs)], -1)
    dirs = dirs_cam @ cam.rot.astype(np.float32)  # camera -> world (rot is orthonormal)
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    dy = dirs[..., 1]
    sky_top, sky_hor = rgb(p["sky_top"]).astype(np.float32), rgb(p["sky_horizon"]).astype(np.float32)
    elev = np.clip(dy, 0, 1)[..., None]
    img = sky_hor + (sky_top - sky_hor) * np.sqrt(elev)
    azim = np.arctan2(dirs[..., 0], dirs[..., 2])
    clouds = _noise_tile(rng, 128, 6)
    cu = ((azim / np.pi + 1) * 64 * 3) % 128
    cv = np.clip(elev[..., 0] * 400, 0, 127)
    cl = cv2.remap(clouds, cu.astype(np.float32), cv.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    img += (np.clip(cl - 0.5, 0, 1) * 2 * p["cloudiness"] * 120)[..., None] * (elev > 0)
    phase = rng.uniform(0, 2 * np.pi, 3)
    hill = 0.02 + 0.015 * np.sin(3 * azim + phase[0]) + 0.01 * np.sin(7 * azim + phase[1]) + 0.006 * np.sin(13 * azim + phase[2])
    # soft-edged hill silhouette on the horizon (alpha ramps over about one pixel)
    px = cam.focal * width / full
    alpha = np.clip((hill * p["hills"] - dy) * px, 0, 1) * np.clip(dy * px + 1, 0, 1)
    hill_col = rgb(p["hill"]).astype(np.float32) * (0.9 + 0.2 * np.clip(dy / 0.05, 0, 1))[..., None]
    img = img + (hill_col - img) * alpha[..., None]
    ground = dy < -1e-4
    t = -cam.centre[1] / np.where(ground, dy, -1.0)
    gx, gz = cam.centre[0] + t * dirs[..., 0], cam.centre[2] + t * dirs[..., 2]
    dist = np.where(ground, t, 1e4)
    scale = p["texture_scale"]
    coarse, fine = _noise_tile(rng, 128, 8), _noise_tile(rng, 128, 32)
    mu = lambda a, s: (a / s * 128 % 128).astype(np.float32)  # noqa: E731
    vc = cv2.remap(coarse, mu(gx, 8 * scale), mu(gz, 8 * scale), cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    vf = cv2.remap(fine, mu(gx, 2 * scale), mu(gz, 2 * scale), cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    detail = np.exp(-dist / (6 + cam.focal / width * 6))
    v = np.clip(0.65 * vc + (0.35 * vf - 0.175) * detail + 0.175, 0, 1)[..., None]
    ga, gb = rgb(p["ground_a"]).astype(np.float32), rgb(p["ground_b"]).astype(np.float32)
    L = light_dir(p)
    gcol = (ga + (gb - ga) * v) * (p["ambient"] + p["light_intensity"] * max(L[1], 0.0))
    fog = (1 - np.exp(-dist / p["fog_distance"]))[..., None]
    gcol = gcol * (1 - fog) + sky_hor * fog
    # soft horizon: blend ground over sky across about one (half-res) pixel
    a_g = np.clip(-dy * px + 0.5, 0, 1)[..., None]
    img = img + (np.where(ground[..., None], gcol, sky_hor) - img) * a_g
    img = cv2.resize(np.clip(img, 0, 255).astype(np.uint8), (full, full), interpolation=cv2.INTER_LINEAR)
    width = full
    # subject's shadow, cast away from the light on the ground
    sdir = -L[[0, 2]] / max(L[1], 0.25)
    ang = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    rx = 0.28 * p["girth"] ** 0.5
    ring = np.stack([rx * np.cos(ang), np.zeros_like(ang), 0.22 * np.sin(ang)], -1)
    elong = np.clip(np.linalg.norm(sdir), 0, 2.5)
    stretch = (0.5 + 0.5 * np.cos(ang - np.arctan2(sdir[1], sdir[0]))) * min(elong, 2.0) * 0.5
    ring[:, 0] += stretch * sdir[0] / max(elong, 1e-6)
    ring[:, 2] += stretch * sdir[1] / max(elong, 1e-6)
    uv, _ = cam.project(ring)
    a = 0.45 * min(1.0, p["light_intensity"] / 0.8)
    x0, y0 = np.clip(np.floor(uv.min(0)).astype(int) - 2, 0, width)
    x1, y1 = np.clip(np.ceil(uv.max(0)).astype(int) + 2, 0, width)
    if x1 > x0 and y1 > y0 and (cam.to_cam(ring)[:, 2] > 0.1).all():
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        poly = np.round((uv - [x0, y0]) * ONE).astype(np.int32)
        cv2.fillConvexPoly(mask, poly, 255, cv2.LINE_AA, SHIFT)
        keep = (1.0 - a * mask.astype(np.float32) / 255.0)[..., None]
        img[y0:y1, x0:x1] = (img[y0:y1, x0:x1] * keep).astype(np.uint8)
    _clutter(img, p, cam, rng, L, p["style"] == "target")
    if p.get("vignette", 0) > 0:
        ys, xs = np.mgrid[0:width, 0:width].astype(np.float32)
        r2 = ((xs - width / 2) ** 2 + (ys - width / 2) ** 2) / (width / 2) ** 2
        img = np.clip(img * (1 - p["vignette"] * r2)[..., None], 0, 255).astype(np.uint8)
    return img


@dataclass
class Clip:
    frames: np.ndarray      # (T, H, W, 3) uint8 RGB
    joints_3d: np.ndarray   # (T, J, 3) world metres
    joints_2d: np.ndarray   # (T, J, 2) pixels (after shake)
    fps: int
    duration: float


def shake_offsets(p: dict, frames: int, rng: np.random.Generator, fps: float) -> np.ndarray:
    """Smooth 2-D camera shake in pixels, (T, 2): sum of sines with random phases."""
    t = np.arange(frames) / fps
    out = np.zeros((frames, 2))
    for k, f in enumerate((0.7, 1.9, 4.3)):
        ph = rng.uniform(0, 2 * np.pi, 2)
        out += np.stack([np.sin(2 * np.pi * f * p["shake_hz"] * t + ph[0]),
                         np.cos(2 * np.pi * f * p["shake_hz"] * t + ph[1])], -1) / (k + 1)
    return out * p["shake_px"] * p["size"] / 224.0


def _colour_layers(base: np.ndarray, lam: np.ndarray, p: dict) -> np.ndarray:
    """(T, P, 3 layers, 3) shaded colours: dark rim, lit body, highlight."""
    k = np.stack([lam * 0.3 - 0.15, lam, lam * 1.18 + 0.08], -1)
    k = p["ambient"] + p["light_intensity"] * np.maximum(k, 0.0)
    return np.clip(base[None, :, None, :] * k[..., None], 0, 255)


def render_clip(p: dict, spec: GestureSpec) -> Clip:
    """Render one video from its sampled parameters ``p``."""
    size, n = p["size"], p["frames"]
    rng = np.random.default_rng(p["render_seed"])
    perf = Performance(
        repeats=p["repeats"], speed=p["speed"], amplitude=p["amplitude"], idle_before=p["idle_before"],
        idle_after=p["idle_after"], mirror=p["mirror"], timing_jitter=p["timing_jitter"],
        angle_jitter=p["angle_jitter"], seed=p["render_seed"],
    )
    pose, duration = animate(spec, perf, n)
    fps = int(np.clip(round(n / duration), 4, 60))
    body = Body(height=p["height"], girth=p["girth"], shoulder_width=p["shoulder_width"])
    sway = np.sin(np.linspace(0, duration, n) * 2 * np.pi * 0.3 + p["render_seed"] % 7) * p["sway"]
    root = np.zeros((n, 3))
    root[:, 0], root[:, 1] = sway * 0.02, body.pelvis_height
    pos, rot = forward_kinematics(pose, body, root, 0.0)

    shakes = shake_offsets(p, n, rng, fps)
    margin = int(np.ceil(np.abs(shakes).max())) + 2
    bg = render_background(p, make_camera(p, size, margin), size + 2 * margin, rng)
    cam = make_camera(p, size, 0)

    parts = build_parts(body, p["style"], p["headgear"], p["has_pack"])
    colours = {k: rgb(p[k]) for k in ("skin", "hair", "shirt", "shirt_front", "trousers", "boots", "armband", "pack", "glove")}
    colours["sleeve"] = colours["shirt"] if p["long_sleeves"] else colours["skin"]
    sizes = [len(pt.points) for pt in parts]
    rot_t = rot.transpose(0, 1, 3, 2)  # row-vector form: world = local @ R^T + p
    pj = [pt.joint for pt in parts]
    centres = np.einsum("tpij,pj->tpi", rot[:, pj], np.stack([pt.centre for pt in parts])) + pos[:, pj]
    world = np.concatenate([pt.points @ rot_t[:, pt.joint] + pos[:, pt.joint, None] for pt in parts] + [centres], axis=1)
    uv_all, z_all = cam.project(world)
    uv_all = uv_all + shakes[:, None, :]
    bounds = np.cumsum([0] + sizes)
    n_pts = bounds[-1]
    centres_w = world[:, n_pts:]
    depth = z_all[:, n_pts:]
    L = light_dir(p)
    l_cam = cam.rot @ L
    shift_dir = l_cam[:2] / max(np.linalg.norm(l_cam[:2]), 1e-6) * min(1.0, np.linalg.norm(l_cam[:2]) * 1.5)
    axes = np.einsum("tpij,pj->tpi", rot[:, [pt.joint for pt in parts]], np.stack([pt.axis for pt in parts]))
    to_cam = cam.centre - centres_w
    to_cam /= np.linalg.norm(to_cam, axis=-1, keepdims=True)
    along = (to_cam * axes).sum(-1, keepdims=True)
    normal = to_cam - along * axes  # facing normal perpendicular to the long axis
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-6)
    lam_all = 0.35 + 0.65 * (normal @ L)
    base = np.stack([colours[pt.colour] for pt in parts])
    shade = _colour_layers(base, lam_all, p).tolist()
    radius_px = np.array([pt.radius for pt in parts])[None] * cam.focal / depth
    # layer polygons for every point at once: shrink toward the part centre, shift toward the light
    pid = np.repeat(np.arange(len(parts)), sizes)
    c_uv = uv_all[:, n_pts:][:, pid]
    d_uv = uv_all[:, :n_pts] - c_uv
    sh = shift_dir[None, None, :] * radius_px[:, pid, None]
    fixed_all = np.round(uv_all[:, :n_pts] * ONE).astype(np.int32)
    mid_all = np.round((c_uv + 0.18 * sh + 0.78 * d_uv) * ONE).astype(np.int32)
    hi_all = np.round((c_uv + 0.40 * sh + 0.42 * d_uv) * ONE).astype(np.int32)
    layers = [pt.layers for pt in parts]
    layers = np.where(radius_px >= 3.0, np.array(layers)[None], np.minimum(np.array(layers)[None], 2))
    layers = np.where(radius_px >= 1.0, layers, 1).tolist()

    face = face_points(body)
    hj = JOINT_INDEX["head"]
    face_w = np.einsum("tij,pj->tpi", rot[:, hj], face) + pos[:, hj][:, None]
    face_uv, face_z = cam.project(face_w)
    face_fixed = np.round((face_uv + shakes[:, None, :]) * ONE).astype(int).tolist()
    head_fwd = rot[:, hj, :, 2]
    facing = (((cam.centre - pos[:, hj]) * head_fwd).sum(-1) / np.linalg.norm(cam.centre - pos[:, hj], axis=-1)).tolist()
    eye_r = np.maximum(0.8, 0.011 * cam.focal / face_z[:, 0]) * ONE
    skin = colours["skin"]
    eye_col = (25.0, 20.0, 20.0)
    mouth_col = tuple(float(c) for c in np.clip(skin * np.array([0.6, 0.32, 0.32]), 0, 255))

    decals: dict[int, list[int]] = {}
    name_idx = {pt.name: i for i, pt in enumerate(parts)}
    for i, pt in enumerate(parts):
        if pt.decal_of:
            decals.setdefault(name_idx[pt.decal_of], []).append(i)
    main = np.array([i for i, pt in enumerate(parts) if not pt.decal_of])
    groups = [[i] + decals.get(i, []) + ([-1] if i == name_idx["head"] else []) for i in range(len(parts))]
    # per frame: parts far to near, each followed by its decals; -1 marks "draw the face now"
    sorted_main = main[np.argsort(-depth[:, main], axis=1, kind="stable")].tolist()
    orders = [[k for i in row for k in groups[i]] for row in sorted_main]
    # per part: (T, 3 layers, points, 2) fixed-point polygons, so one hull serves all layers
    stacked = np.stack([fixed_all, mid_all, hi_all], 1)
    part_pts = [np.ascontiguousarray(stacked[:, :, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    blur_a = p["motion_blur"]
    noise_bank = None
    if p["noise_sigma"] > 0:
        # cv2's Gaussian generator is ~6x faster than numpy's; seeded per video, so reproducible
        cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
        bank_pos, bank_neg = [], []
        for _ in range(3):
            ch = 3 if p["style"] == "target" else 1  # default style: luminance-only grain
            noise = np.empty((size + 8, size + 8, ch), np.int16)
            cv2.randn(noise, 0.0, float(p["noise_sigma"]))
            if ch == 1:
                noise = cv2.merge([noise, noise, noise])
            bank_pos.append(cv2.convertScaleAbs(cv2.max(noise, 0)))
            bank_neg.append(cv2.convertScaleAbs(cv2.min(noise, 0)))
        noise_bank = (np.stack(bank_pos), np.stack(bank_neg))
        picks = rng.integers(0, 3, n).tolist()
        offs = rng.integers(0, 8, (n, 2)).tolist()
    out = np.empty((n, size, size, 3), np.uint8)
    roll_m = np.tile(np.eye(2, 3), (n, 1, 1))  # per-frame 2x3 image warp (identity unless handheld roll)
    prev = None
    fill, aa, hull_idx = cv2.fillConvexPoly, cv2.LINE_AA, cv2.convexHull
    shake_int = np.round(shakes).astype(int).tolist()
    for f in range(n):
        dx, dy = shake_int[f]
        img = bg[margin - dy: margin - dy + size, margin - dx: margin - dx + size].copy()
        col_f, lay_f = shade[f], layers[f]
        for k in orders[f]:
            if k < 0:
                if facing[f] > 0.2:
                    r = int(eye_r[f])
                    fp = face_fixed[f]
                    cv2.circle(img, fp[0], r, eye_col, -1, aa, SHIFT)
                    cv2.circle(img, fp[1], r, eye_col, -1, aa, SHIFT)
                    cv2.ellipse(img, fp[2], (int(r * 2.2), int(r * 0.7)), 0, 0, 360, mouth_col, -1, aa, SHIFT)
                continue
            lk = part_pts[k][f]
            idx = hull_idx(lk[0], returnPoints=False)
            if len(idx) < 3:
                continue
            idx = idx[:, 0]
            cols = col_f[k]
            nl = lay_f[k]
            fill(img, lk[0][idx], cols[0], aa, SHIFT)
            if nl >= 2:
                fill(img, lk[1][idx], cols[1], aa, SHIFT)
                if nl >= 3:
                    fill(img, lk[2][idx], cols[2], cv2.LINE_8, SHIFT)  # low-contrast edge: no AA needed
        sharp = img
        if blur_a > 0 and prev is not None:
            img = cv2.addWeighted(img, 1 - blur_a, prev, blur_a, 0)
        prev = sharp
        if p["defocus"] > 0:
            img = cv2.GaussianBlur(img, (0, 0), p["defocus"])
        if p["roll_jitter"] > 0:
            ang = p["roll_jitter"] * np.sin(f / n * 2 * np.pi * p["shake_hz"] + 1.0)
            m = cv2.getRotationMatrix2D((size / 2, size / 2), ang, 1.0 + abs(ang) * 0.02)
            img = cv2.warpAffine(img, m, (size, size), borderMode=cv2.BORDER_REFLECT)
            roll_m[f] = m
        if noise_bank is not None:
            k = picks[f]
            ox, oy = offs[f]
            img = cv2.subtract(cv2.add(img, noise_bank[0][k, oy:oy + size, ox:ox + size]),
                               noise_bank[1][k, oy:oy + size, ox:ox + size])
        out[f] = img
    j2d, _ = cam.project(pos)
    j2d = j2d + shakes[:, None, :]
    j2d = np.einsum("tij,tpj->tpi", roll_m[:, :, :2], j2d) + roll_m[:, None, :, 2]  # handheld roll
    return Clip(out, pos.astype(np.float32), j2d.astype(np.float32), fps, duration)
