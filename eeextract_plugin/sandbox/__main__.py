"""``python -m eeextract_plugin.sandbox``: see ``cli.py``."""

import sys

from eeextract_plugin.sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
