"""`python -m gesturebench` must not rerun the command when decode workers re-import it."""

from __future__ import annotations

import runpy


def test_main_module_is_inert_under_the_worker_name():
    # The forkserver imports the main module as __mp_main__; unguarded, entry() would run
    # the whole command again in every worker and end it with SystemExit.
    namespace = runpy.run_module("gesturebench.__main__", run_name="__mp_main__")
    assert callable(namespace["entry"])
