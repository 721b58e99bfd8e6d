import sys

from eeextract_plugin.cli.main import main

sys.exit(main())
