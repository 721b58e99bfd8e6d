"""The ``eeextract`` command line: a front end of the core, like the dock and Processing.

It translates arguments onto :mod:`eeextract_plugin.core` (spec files, the runner, status rows)
and the engine's errors onto exit codes; ``eeextract sandbox`` and ``eeextract demo`` start the
sandbox, which the core never imports.
"""

from eeextract_plugin.cli.main import main

__all__ = ["main"]
