"""Entry script of the frozen ``telework-host`` (PyInstaller runs it as ``__main__``)."""

import sys

from apps.host.main import main

if __name__ == "__main__":
    sys.exit(main())
