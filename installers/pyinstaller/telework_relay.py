"""Entry script of the frozen ``telework-relay`` (PyInstaller runs it as ``__main__``)."""

import sys

from relay.cli import main

if __name__ == "__main__":
    sys.exit(main())
