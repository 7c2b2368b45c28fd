"""``python -m skcatdog``: the same command line as ``skcatdog``."""

import sys

from skcatdog.cli import main

if __name__ == "__main__":
    sys.exit(main())
