"""Articulated humanoid skeleton and forward kinematics.

Body frame (metres): ``x`` points to the subject's **left**, ``y`` up, ``z``
forward (the way the subject faces). The frame is right-handed.

Every joint has a parent, a rest offset from the parent (expressed in the
parent's frame) and a few named degrees of freedom (DOFs) in degrees. DOF names
are anatomical so gesture files read naturally and mean the same on both sides:

* trunk joints (``pelvis``, ``spine``, ``chest``, ``neck``, ``head``):
  ``bend`` (forward +), ``turn`` (towards the subject's left +),
  ``lean`` (towards the subject's left +);
* ``l_/r_shoulder``: the arm hangs down at 0. ``elev`` lifts it (90 =
  horizontal, 180 = straight up) in the vertical plane chosen by ``azim``
  (0 = in front, 90 = out to the side, 180 = behind); ``twist`` rolls the arm
  about its own axis (+ turns the elbow crease upward when the arm is forward);
* ``l_/r_elbow``, ``l_/r_wrist``: ``flex`` (0 = straight);
* ``l_/r_hip``: ``elev`` / ``azim`` like the shoulder (leg hangs at 0);
* ``l_/r_knee``: ``flex`` (shin swings backward); ``l_/r_ankle``: ``flex``
  (toes up +).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRUNK_DOFS = ("bend", "turn", "lean")
ARM_DOFS = ("elev", "azim", "twist")

#: joint -> (parent, DOF names). Order is topological (parents first).
JOINTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "pelvis": (None, TRUNK_DOFS),
    "spine": ("pelvis", TRUNK_DOFS),
    "chest": ("spine", TRUNK_DOFS),
    "neck": ("chest", TRUNK_DOFS),
    "head": ("neck", TRUNK_DOFS),
    "l_shoulder": ("chest", ARM_DOFS),
    "l_elbow": ("l_shoulder", ("flex",)),
    "l_wrist": ("l_elbow", ("flex",)),
    "l_hand": ("l_wrist", ()),
    "r_shoulder": ("chest", ARM_DOFS),
    "r_elbow": ("r_shoulder", ("flex",)),
    "r_wrist": ("r_elbow", ("flex",)),
    "r_hand": ("r_wrist", ()),
    "l_hip": ("pelvis", ("elev", "azim")),
    "l_knee": ("l_hip", ("flex",)),
    "l_ankle": ("l_knee", ("flex",)),
    "l_toe": ("l_ankle", ()),
    "r_hip": ("pelvis", ("elev", "azim")),
    "r_knee": ("r_hip", ("flex",)),
    "r_ankle": ("r_knee", ("flex",)),
    "r_toe": ("r_ankle", ()),
}
JOINT_NAMES: tuple[str, ...] = tuple(JOINTS)
JOINT_INDEX = {n: i for i, n in enumerate(JOINT_NAMES)}
PARENT_INDEX = tuple(-1 if p is None else JOINT_INDEX[p] for p, _ in JOINTS.values())
#: Every animatable DOF as ``"joint.dof"``, in a fixed order.
DOF_NAMES: tuple[str, ...] = tuple(f"{j}.{d}" for j, (_, dofs) in JOINTS.items() for d in dofs)

#: Range each DOF may take in a gesture file (degrees).
DOF_LIMITS: dict[str, tuple[float, float]] = {
    "bend": (-60, 90), "turn": (-90, 90), "lean": (-45, 45),
    "elev": (-180, 360), "azim": (-180, 360), "twist": (-120, 120), "flex": (-90, 160),
}

#: Relaxed standing pose every gesture starts from; unspecified DOFs stay here.
IDLE_POSE: dict[str, float] = {
    "l_shoulder.elev": 8.0, "l_shoulder.azim": 90.0, "r_shoulder.elev": 8.0, "r_shoulder.azim": 90.0,
    "l_elbow.flex": 12.0, "r_elbow.flex": 12.0, "l_wrist.flex": 5.0, "r_wrist.flex": 5.0,
    "l_hip.elev": 3.0, "l_hip.azim": 90.0, "r_hip.elev": 3.0, "r_hip.azim": 90.0,
    "l_knee.flex": 3.0, "r_knee.flex": 3.0, "l_ankle.flex": 3.0, "r_ankle.flex": 3.0,
}


def idle_vector() -> np.ndarray:
    """The idle pose as a vector over :data:`DOF_NAMES` (degrees)."""
    return np.array([IDLE_POSE.get(n, 0.0) for n in DOF_NAMES], dtype=np.float64)


def mirror_dof_name(name: str) -> str:
    """``l_shoulder.elev`` <-> ``r_shoulder.elev``; trunk names are unchanged."""
    if name.startswith("l_"):
        return "r_" + name[2:]
    if name.startswith("r_"):
        return "l_" + name[2:]
    return name


def mirror_pose_vector(vec: np.ndarray) -> np.ndarray:
    """Swap left/right DOFs and negate trunk turn/lean (a left-handed performer)."""
    out = np.empty_like(vec)
    idx = {n: i for i, n in enumerate(DOF_NAMES)}
    for i, n in enumerate(DOF_NAMES):
        j = idx[mirror_dof_name(n)]
        sign = -1.0 if n.endswith(".turn") or n.endswith(".lean") else 1.0
        out[..., j] = sign * vec[..., i]
    return out


@dataclass(frozen=True)
class Body:
    """Body proportions. ``height`` in metres; ``girth`` scales widths (1 = average)."""

    height: float = 1.78
    girth: float = 1.0
    shoulder_width: float = 1.0

    @property
    def scale(self) -> float:
        return self.height / 1.83

    def offsets(self) -> np.ndarray:
        """Rest offset of each joint from its parent, (J, 3), in the parent's frame."""
        s, w = self.scale, self.scale * (0.85 + 0.15 * self.girth)
        sw = w * self.shoulder_width
        table = {
            "pelvis": (0, 0, 0), "spine": (0, 0.10 * s, 0), "chest": (0, 0.22 * s, 0),
            "neck": (0, 0.22 * s, 0), "head": (0, 0.10 * s, 0),
            "l_shoulder": (0.19 * sw, 0.19 * s, 0), "r_shoulder": (-0.19 * sw, 0.19 * s, 0),
            "l_hip": (0.10 * w, -0.05 * s, 0), "r_hip": (-0.10 * w, -0.05 * s, 0),
        }
        limb = {
            "elbow": (0, -0.29 * s, 0), "wrist": (0, -0.25 * s, 0), "hand": (0, -0.08 * s, 0),
            "knee": (0, -0.43 * s, 0), "ankle": (0, -0.42 * s, 0), "toe": (0, -0.06 * s, 0.15 * s),
        }
        out = np.zeros((len(JOINT_NAMES), 3))
        for i, name in enumerate(JOINT_NAMES):
            out[i] = table[name] if name in table else limb[name[2:]]
        return out

    @property
    def pelvis_height(self) -> float:
        """Pelvis height above the ground in the rest pose (sole of the foot at y=0)."""
        return (0.05 + 0.43 + 0.42 + 0.07) * self.scale


def rot_x(a: np.ndarray) -> np.ndarray:
    """Rotation about x by ``a`` radians; ``a`` of any shape -> (..., 3, 3)."""
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def local_rotation(joint: str, dofs: dict[str, np.ndarray]) -> np.ndarray | None:
    """Local rotation (..., 3, 3) of ``joint`` from its DOF values in degrees."""
    get = lambda d: np.radians(dofs.get(d, 0.0))  # noqa: E731
    kind = JOINTS[joint][1]
    side = 1.0 if joint.startswith("l_") else -1.0
    if kind == TRUNK_DOFS:
        return rot_y(get("turn")) @ rot_x(get("bend")) @ rot_z(-get("lean"))
    if kind == ARM_DOFS:
        return rot_y(side * get("azim")) @ rot_x(-get("elev")) @ rot_y(side * get("twist"))
    if kind == ("elev", "azim"):
        return rot_y(side * get("azim")) @ rot_x(-get("elev"))
    if kind == ("flex",):
        sign = 1.0 if joint.endswith("knee") else -1.0
        return rot_x(sign * get("flex"))
    return None


def forward_kinematics(
    pose: np.ndarray,
    body: Body,
    root_pos: np.ndarray | None = None,
    root_yaw_deg: float | np.ndarray = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) and rotations (T, J, 3, 3) of every joint.

    ``pose`` is (T, D) degrees over :data:`DOF_NAMES` (or (D,) for one frame).
    ``root_pos`` (T, 3) or (3,) places the pelvis; default stands the body on
    the ground at the origin. ``root_yaw_deg`` turns the whole body about +y.
    """
    pose = np.atleast_2d(np.asarray(pose, dtype=np.float64))
    t = pose.shape[0]
    if root_pos is None:
        root_pos = np.array([0.0, body.pelvis_height, 0.0])
    root_pos = np.broadcast_to(np.asarray(root_pos, dtype=np.float64), (t, 3))
    offsets = body.offsets()
    col = {n: i for i, n in enumerate(DOF_NAMES)}
    pos = np.zeros((t, len(JOINT_NAMES), 3))
    rot = np.zeros((t, len(JOINT_NAMES), 3, 3))
    yaw = rot_y(np.broadcast_to(np.radians(np.asarray(root_yaw_deg, dtype=np.float64)), (t,)))
    for j, name in enumerate(JOINT_NAMES):
        dofs = {d: pose[:, col[f"{name}.{d}"]] for d in JOINTS[name][1]}
        local = local_rotation(name, dofs)
        p = PARENT_INDEX[j]
        if p < 0:
            parent_rot, parent_pos = yaw, root_pos
        else:
            parent_rot, parent_pos = rot[:, p], pos[:, p]
        pos[:, j] = parent_pos + parent_rot @ offsets[j]
        rot[:, j] = parent_rot if local is None else parent_rot @ local
    return pos, rot
