"""Entry script of the frozen ``telework-viewer`` (PyInstaller runs it as ``__main__``)."""

import sys

from apps.viewer.main import main

if __name__ == "__main__":
    sys.exit(main())
