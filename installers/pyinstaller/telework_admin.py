"""Entry script of the frozen ``telework-admin`` (PyInstaller runs it as ``__main__``)."""

import sys

from apps.admin.main import main

if __name__ == "__main__":
    sys.exit(main())
