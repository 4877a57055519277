"""``gesturebench`` command line: thin Typer commands over :mod:`gesturebench.api`.

Every library error becomes one line ``error: ...`` on stderr and exit code 1, and so
does an ``OSError`` (a bad output path, a full disk), with the path named; set
``GESTUREBENCH_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

try:  # typer >= 0.20 vendors its own click; older typer uses click itself
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exc

from .. import __version__

INTERRUPTED = "error: interrupted; finished work is kept, rerun the same command to resume"

# Command modules, each exposing register(app). They import no torch at import time.
COMMAND_MODULES = (
    "data", "synth", "encoders", "extract", "features", "knn", "probe", "zeroshot", "demo", "bench", "finetune",
    "recognise", "unseen", "run", "pose",
)

app = typer.Typer(
    name="gesturebench",
    help="Can synthetic videos teach a gesture recogniser? Frozen video encoders, k-NN, latency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gesturebench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show version."),
) -> None:
    """gesturebench command line."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    from ..errors import GesturebenchError

    debug = os.environ.get("GESTUREBENCH_DEBUG", "") not in ("", "0")
    try:
        rv = app(args=argv, prog_name="gesturebench", standalone_mode=False)
        code = int(rv) if isinstance(rv, int) else 0
        if code == 130:  # typer turns Ctrl-C into exit code 130 without a word
            print(INTERRUPTED, file=sys.stderr)
        return code
    except GesturebenchError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _click_exc.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `gesturebench`: show help
            exc.show()
            return 0
        if debug:
            raise
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except OSError as exc:  # last resort: a path the library did not check (commands check their own first)
        if debug:
            raise
        from ..fileio import describe_os_error

        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 1


def entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
