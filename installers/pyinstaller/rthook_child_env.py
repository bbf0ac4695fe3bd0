"""Runtime hook of the frozen programs: the programs they start (the office PC's shutdown
command, ``ldconfig`` behind ``ctypes.util.find_library``) get the machine's own libraries.

The bootloader points ``LD_LIBRARY_PATH`` at the bundle for this process (the dynamic loader
has read it by now) and children would inherit it, loading the bundle's libssl or libsystemd
into system tools; it keeps the caller's value in ``LD_LIBRARY_PATH_ORIG``.
"""

import os

_original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
if _original is not None:
    os.environ["LD_LIBRARY_PATH"] = _original
else:
    os.environ.pop("LD_LIBRARY_PATH", None)
