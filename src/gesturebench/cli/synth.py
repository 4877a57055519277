"""`gesturebench synth`, `gesturebench contact-sheet` and `gesturebench gestures init/check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import EngineOpt, RayAddressOpt, SeedOpt, WorkersOpt, console

_VALUES = "a value (5), a list (0,30,330), low:high (drawn uniformly) or low:high:step"
AzimuthsOpt = Annotated[str | None, typer.Option(
    "--azimuths", help=f"Camera azimuths in degrees (0: facing the subject, 90: its left, 180: behind): {_VALUES}. "
    "Default: RoCoG-v2's 30..330 in 60-degree steps (plus/minus the scene's jitter, 4).")]
ElevationsOpt = Annotated[str | None, typer.Option(
    "--elevations", help=f"Camera elevation in degrees above the ground seen from the subject's feet: {_VALUES}; "
    "the camera height follows. Default: ground about 1.75 m high (15-24 degrees), air 35-70.")]
DistanceOpt = Annotated[str | None, typer.Option(
    "--distance", help="Horizontal camera distance in metres: a value or low:high (also a list). "
    "Default: ground 4-6.5 m, air from height and elevation.")]
SceneOpt = Annotated[Path | None, typer.Option(
    "--scene", help="Scene YAML overriding the style's randomisation (see --scene-template).")]
StyleOpt = Annotated[str, typer.Option("--style", help="default (syn/) or target (tgt/, a synthetic stand-in domain).")]
GesturesOpt = Annotated[Path | None, typer.Option("--gestures", help="Folder of gesture YAML files (default: built-in seven).")]


def _synth(
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    per_class: Annotated[int, typer.Option("--per-class", help="Videos per gesture and view.")] = 10,
    views: Annotated[str, typer.Option("--views", help="Comma-separated: ground, air.")] = "ground",
    seed: SeedOpt = 0,
    style: StyleOpt = "default",
    size: Annotated[int, typer.Option("--size", help="Frame width and height in pixels (even, >= 32).")] = 224,
    frames: Annotated[int, typer.Option("--frames", help="Frames per video.")] = 64,
    workers: WorkersOpt = 0,
    splits: Annotated[str, typer.Option("--splits", help="Split fractions, e.g. train=0.8,val=0.2[,test=0.1].")] = "train=0.8,val=0.2",
    gestures: GesturesOpt = None,
    scene: SceneOpt = None,
    azimuths: AzimuthsOpt = None,
    elevations: ElevationsOpt = None,
    distance: DistanceOpt = None,
    mirror_share: Annotated[float | None, typer.Option(
        "--mirror-share", help="Share of left-handed (mirrored) performances, 0-1. Default 0.1 (target 0.25).")] = None,
    scene_template: Annotated[bool, typer.Option(
        "--scene-template", help="Print the style's scene YAML (every randomised setting) and exit.")] = False,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    joints_only: Annotated[bool, typer.Option(
        "--joints-only", help="Render nothing: project the skeleton's joints through the sampled cameras into a "
        "`pose` feature store at --out (see docs/pose.md).")] = False,
    noise: Annotated[float, typer.Option("--noise", help="--joints-only: detector-like noise, in torso lengths.")] = 0.03,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="--joints-only: replace a store made with other settings.")] = False,
    encoder_opt: Annotated[list[str] | None, typer.Option(
        "--encoder-opt", metavar="KEY=VALUE",
        help="--joints-only: option of the pose preset the features must match, e.g. num_frames=8 (repeatable).")] = None,
) -> None:
    """Render a synthetic gesture dataset in the RoCoG-v2 layout (or, with --joints-only, pose features)."""
    from ..errors import ConfigError
    from ..synth.scene import resolve_scene, scene_template as template
    from ..synth.writer import generate_dataset, parse_splits, validate_args

    if scene_template:
        typer.echo(template(style), nl=False)
        return
    if out is None:
        raise ConfigError("missing option --out (the output folder)")
    if joints_only:
        if engine != "local":
            raise ConfigError(f"--joints-only runs in this process (it renders nothing); --engine {engine} does not apply")
        from .common import parse_encoder_opts

        _joints_only(out, per_class, views, seed, style, size, frames, workers, gestures, noise, overwrite,
                     dict(scene=scene, azimuths=azimuths, elevations=elevations, distance=distance,
                          mirror_share=mirror_share, encoder_options=parse_encoder_opts(encoder_opt)))
        return
    if overwrite or encoder_opt:
        raise ConfigError("--overwrite and --encoder-opt only apply with --joints-only (rendered datasets resume instead)")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    view_list = validate_args(per_class, views, seed, style, size, frames, workers)
    parse_splits(splits)
    sc = resolve_scene(style, scene, azimuths=azimuths, elevations=elevations, distance=distance,
                       mirror_share=mirror_share)  # validated before anything is written
    from ..ray_cluster import engine_from_cli

    run_on = engine_from_cli(engine, ray_address)
    with Progress(TextColumn("[bold]synth[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task(f"{style} {','.join(view_list)}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate_dataset(out, per_class, view_list, seed, style=style, size=size, frames=frames,
                                   workers=workers, splits=splits, progress=progress, gesture_dir=gestures, scene=sc,
                                   engine=run_on)
    split_names = sorted({k[2] for k in summary.counts}, key=["train", "val", "test"].index)
    table = Table(title=f"{summary.root} ({style}, scene {summary.scene})")
    table.add_column("class")
    for view in summary.views:
        for sp in split_names:
            table.add_column(f"{view}/{sp}", justify="right")
    for name in summary.class_names:
        table.add_row(name, *[str(summary.counts.get((v, name, sp), 0)) for v in summary.views for sp in split_names])
    console.print(table)
    rate = f", {summary.videos_per_second:.1f} videos/s" if summary.generated else ""
    console.print(f"{summary.generated} rendered, {summary.skipped} kept from an earlier run in "
                  f"{summary.seconds:.1f}s{rate}")
    for path in summary.lists + summary.tables:
        console.print(f"  {path}", highlight=False)


def _joints_only(out, per_class, views, seed, style, size, frames, workers, gestures, noise, overwrite, camera) -> None:
    from ..synth.joints_only import JointsOnlyConfig, synth_joints_only
    from ..synth.writer import validate_args

    view_list = validate_args(per_class, views, seed, style, size, frames, workers)
    cfg = JointsOnlyConfig(per_class=per_class, views=view_list, seed=seed, style=style, size=size, frames=frames,
                           noise=noise, gesture_dir=gestures, **camera)
    summary = synth_joints_only(cfg, out, workers=workers, overwrite=overwrite)
    what = f"{summary.computed} computed, {summary.reused} kept from an earlier run"
    rate = f", {summary.clips_per_second:.0f} clips/s" if summary.computed else ""
    console.print(f"joints-only: {summary.total} pose feature rows ({what}) in {summary.seconds:.1f}s{rate}")
    console.print(f"  {summary.store}  (a `pose` feature store: use it as --train)", highlight=False)


def _contact_sheet(
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")],
    style: Annotated[str, typer.Option("--style", help="default or target.")] = "default",
    size: Annotated[int, typer.Option("--size", help="Tile size in pixels (even, >= 32).")] = 224,
    seed: SeedOpt = 0,
    gestures: GesturesOpt = None,
    views: Annotated[str, typer.Option("--views", help="Comma-separated: ground, air (one block of rows each).")] = "ground,air",
    azimuths: Annotated[str | None, typer.Option(
        "--azimuths", help="One row per azimuth, degrees: 330, 0,30,330 or -90:90:45. Default 330.")] = None,
    scene: SceneOpt = None,
    elevations: ElevationsOpt = None,
    distance: DistanceOpt = None,
) -> None:
    """Render one mid-gesture frame per gesture, view and azimuth into one labelled PNG."""
    from ..synth.contact import render_contact_sheet

    path = render_contact_sheet(out, style=style, size=size, seed=seed, views=views, gesture_dir=gestures,
                                scene=scene, azimuths=azimuths, elevations=elevations, distance=distance)
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)


gestures_app = typer.Typer(help="Gesture YAML folders: start one from the built-ins, check one.", no_args_is_help=True)


@gestures_app.command("init")
def _gestures_init(
    folder: Annotated[Path, typer.Argument(help="Folder to create (or fill) with the built-in gesture YAMLs.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files of the same names.")] = False,
) -> None:
    """Copy the seven built-in gesture YAMLs (RoCoG-v2's signals) into FOLDER as a starting point."""
    from ..synth.gesture_folder import init_gesture_folder

    written = init_gesture_folder(folder, force=force)
    console.print(f"wrote {len(written)} gesture files to {folder}; edit them, add your own (labels 0..N-1), then "
                  f"`gesturebench gestures check {folder}`", highlight=False, soft_wrap=True)


@gestures_app.command("check")
def _gestures_check(
    folder: Annotated[Path, typer.Argument(help="Folder of gesture YAML files.")],
    sheet: Annotated[Path | None, typer.Option("--sheet", help="Preview PNG to write (default FOLDER/preview.png).")] = None,
    no_sheet: Annotated[bool, typer.Option("--no-sheet", help="Validate only; render no preview.")] = False,
    size: Annotated[int, typer.Option("--size", help="Preview tile size in pixels (even, >= 32).")] = 160,
    azimuths: Annotated[str, typer.Option("--azimuths", help="Preview rows: azimuths in degrees.")] = "0,330",
    style: StyleOpt = "default",
) -> int:
    """Validate every gesture file (all problems, as file:line) and render a preview sheet."""
    from ..errors import ConfigError
    from ..synth.contact import render_contact_sheet
    from ..synth.gesture_folder import check_gesture_folder

    result = check_gesture_folder(folder)
    if result.problems:
        for problem in result.problems:
            typer.echo(f"error: {problem}", err=True)
        n = len(result.problems)
        raise ConfigError(f"{folder}: {n} problem{'s' if n > 1 else ''} in {result.files} gesture file"
                          f"{'s' if result.files != 1 else ''}")
    console.print(f"{folder}: {len(result.specs)} gestures OK: "
                  + ", ".join(f"{s.label} {s.name} (repeats {s.repeats[0]}-{s.repeats[1]})" for s in result.specs),
                  highlight=False, soft_wrap=True)
    if not no_sheet:
        path = render_contact_sheet(sheet or folder / "preview.png", style=style, size=size, views=("ground",),
                                    gesture_dir=folder, azimuths=azimuths)
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    return 0


def register(app: typer.Typer) -> None:
    """Attach `synth`, `contact-sheet` and `gestures` to the root app."""
    app.command("synth")(_synth)
    app.command("contact-sheet")(_contact_sheet)
    app.add_typer(gestures_app, name="gestures")
