"""The Ray side shared by ``extract --engine ray`` and ``synth --engine ray``.

Which engine runs a job, how to reach the cluster, and the few knobs the Ray
engines take. Ray is an optional extra (``gesturebench[ray]``): nothing here
imports it until a Ray engine is actually asked for, and a missing install is
one line naming the extra. The engines themselves live in
:mod:`gesturebench.features.ray_engine` and :mod:`gesturebench.synth.ray_engine`.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, GesturebenchError

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
RAY_EXTRA = "gesturebench[ray]"


@dataclass(frozen=True)
class RayEngine:
    """Run a job on a Ray cluster.

    address: the cluster to join (``ray start --head`` prints it; ``auto`` finds a
        running one on this machine). None starts a local Ray instance in this process,
        unless Ray is already initialised here, in which case that instance is used.
    encode_actors: extraction only; encoder replicas. None: one per GPU when the
        encoders run on GPUs, else one.
    encode_threads: extraction only; torch threads of each CPU encoder actor. None:
        this process's ``torch.get_num_threads()``, which is what the local engine
        uses, so CPU features come out bit-identical.
    window: blocks (decode) or chunks (render) in flight at once; bounds memory.
        None: twice the cluster's CPUs, at least 4.
    render_chunk: synthesis only; videos per render task. None: sized so each CPU
        gets a few tasks (1 to 8 videos each).
    init_options: extra keyword arguments for ``ray.init`` when this process starts
        or joins the cluster (e.g. ``num_cpus``, ``include_dashboard``).
    """

    address: str | None = None
    encode_actors: int | None = None
    encode_threads: int | None = None
    window: int | None = None
    render_chunk: int | None = None
    init_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        for name in ("encode_actors", "encode_threads", "window", "render_chunk"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"RayEngine.{name} must be None or an integer >= 1; got {v!r}")
        if self.address is not None and (not isinstance(self.address, str) or not self.address.strip()):
            raise ConfigError(f"--ray-address must be a cluster address such as 10.0.0.1:6379 or auto; got {self.address!r}")


def resolve_engine(engine: str | RayEngine) -> RayEngine | None:
    """``"local"`` -> None (run in this process); ``"ray"`` -> default :class:`RayEngine`."""
    if isinstance(engine, RayEngine):
        return engine
    if engine not in ENGINES:
        shown = ", ".join(ENGINES)
        raise ConfigError(f"engine must be one of {shown}; got {engine!r}")
    return None if engine == "local" else RayEngine()


def engine_from_cli(engine: str, ray_address: str | None) -> str | RayEngine:
    """The ``--engine`` / ``--ray-address`` pair as the library takes it."""
    resolve_engine(engine)  # validates the name
    if ray_address is not None and engine != "ray":
        raise ConfigError(f"--ray-address {ray_address} needs --engine ray (got --engine {engine})")
    if engine != "ray":
        return "local"
    require_ray()  # before any work: a missing extra is one line up front
    return RayEngine(address=ray_address)


def require_ray() -> Any:
    """The ``ray`` module, or one line saying which extra installs it."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError(f"--engine ray needs Ray, which is not installed: pip install '{RAY_EXTRA}'")
    import ray

    return ray


def connect(cfg: RayEngine) -> Any:
    """Join (or start) the cluster ``cfg`` names; returns the ``ray`` module, ready to use."""
    ray = require_ray()
    if ray.is_initialized():
        if cfg.address is not None:
            log.info("Ray is already initialised in this process; using that cluster, not %s", cfg.address)
        return ray
    if cfg.address is not None:
        _check_reachable(cfg.address)
    options: dict[str, Any] = {"logging_level": logging.WARNING}
    if cfg.address is None:
        options["include_dashboard"] = False  # a local instance for one job needs no web UI
    options.update(dict(cfg.init_options))
    try:
        ray.init(address=cfg.address, **options)
    except ConnectionError as exc:
        raise ConfigError(
            f"cannot reach a Ray cluster at --ray-address {cfg.address}: {first_line(exc)} "
            "(start one with `ray start --head`, or leave --ray-address out to start a local one)"
        ) from None
    log.info("Ray: %s", ray.cluster_resources())
    return ray


def _check_reachable(address: str) -> None:
    """Fail fast on a HOST:PORT nobody listens on: ``ray.init`` would retry for minutes."""
    import socket

    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return  # "auto" and other forms are Ray's to resolve (it fails fast on those)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach a Ray cluster at --ray-address {address}: {exc.strerror or exc} "
            "(start one with `ray start --head`, or leave --ray-address out to start a local one)"
        ) from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def reraise_remote(exc: BaseException) -> None:
    """Re-raise a remote failure the way the local engine would have raised it.

    A library error inside a task comes back wrapped in ``RayTaskError`` with a remote
    traceback; unwrap it so the CLI prints its one line. A dead actor or worker becomes a
    :class:`GesturebenchError` that says finished work is kept. Anything else (a bug) is
    left alone, traceback and all.
    """
    import ray.exceptions as rex

    cause = getattr(exc, "cause", None)
    if isinstance(exc, rex.RayTaskError) and isinstance(cause, GesturebenchError):
        raise cause from None
    if isinstance(exc, (rex.RayActorError, rex.WorkerCrashedError, rex.NodeDiedError)):
        raise GesturebenchError(
            f"a Ray worker died during the job ({first_line(exc)}); finished work is kept, "
            "rerun the same command to resume"
        ) from exc


__all__ = ["ENGINES", "RAY_EXTRA", "RayEngine", "resolve_engine", "engine_from_cli", "require_ray", "connect"]
