"""A key pair and its certificate on disk: ``<stem>.key`` (owner only) and ``<stem>.crt``.

The relay, the office PC and the viewer's device each keep one; :mod:`core.crypto.certs` makes
them and derives fingerprints and host IDs from them.
"""

from __future__ import annotations

from pathlib import Path

from core.crypto.certs import Identity, generate_identity
from storage.atomic import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_atomically


def load_or_create_identity(directory: Path, stem: str, common_name: str) -> Identity:
    """Load ``stem.crt``/``stem.key`` from ``directory``, creating them (key 0600) if absent."""
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    if cert_path.exists() and key_path.exists():
        return Identity(cert_path.read_bytes(), key_path.read_bytes())
    return write_identity(directory, stem, generate_identity(common_name))


def write_identity(directory: Path, stem: str, identity: Identity) -> Identity:
    """Store ``identity`` as ``stem.key`` (0600) / ``stem.crt``, replacing any there."""
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(directory / f"{stem}.key", identity.key_pem, mode=PRIVATE_FILE_MODE)
    write_atomically(directory / f"{stem}.crt", identity.cert_pem, mode=PUBLIC_FILE_MODE)
    return identity
