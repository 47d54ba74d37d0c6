"""PyInstaller entry point for the frozen sidecar (see sage_sidecar.spec)."""

import sys

from sage_sidecar.main import main

if __name__ == "__main__":
    sys.exit(main())
