"""Atomic file writes: a reader sees the old file or the new one, never a part, even after a
power cut.

The data goes to a temporary file in the same directory (a rename is atomic only within one
file system), is flushed to disk, and is renamed over the target (or hard-linked into place
when an existing file must win); then the directory itself is flushed, so the new name
survives a crash too.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

PRIVATE_FILE_MODE = 0o600  # secrets, records and anything naming a person: owner only
PUBLIC_FILE_MODE = 0o644  # certificates: anyone may read them
# What ``open()`` would create: the user's umask decides (settings, exported reports).
DEFAULT_FILE_MODE = 0o666


def write_atomically(path: Path, data: bytes, *, mode: int, replace: bool = True) -> bool:
    """Write ``data`` to ``path`` as a new file with ``mode`` (less the umask).

    With ``replace`` False an existing ``path`` is left as it is (two processes creating the
    same key: the loser keeps the winner's); the result says whether ``data`` was stored.
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temp, path)
            stored = True
        else:
            try:
                os.link(temp, path)
                stored = True
            except FileExistsError:
                stored = False
    finally:
        temp.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    return stored


def write_private_json(path: Path, body: object) -> None:
    """Write ``body`` as JSON to ``path`` atomically, readable by its owner only."""
    text = json.dumps(body, ensure_ascii=False, indent=1)
    write_atomically(path, text.encode("utf-8"), mode=PRIVATE_FILE_MODE)


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
