"""``python -m labkit …``: the same command as ``labkit …`` (for conda and Windows learners)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
