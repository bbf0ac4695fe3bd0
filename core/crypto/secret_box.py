"""Encryption of secrets at rest (TOTP seeds in the directory) with AES-256-GCM.

The key lives in its own file (:mod:`storage.secret_key`), apart from the database, so a copied
database alone reveals no secret. Each sealed value is bound to a *context* (e.g. which table,
tenant and user it belongs to) as associated data: a ciphertext moved to another row no longer
opens.

Sealed layout: ``version (1 byte) | nonce (12 bytes) | ciphertext + tag (16 bytes)``.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import CryptoError

# AES-256: a 32-byte key.
KEY_BYTES = 32
# GCM's standard 96-bit nonce, random per seal. Random nonces are safe up to ~2**32 seals per
# key (NIST SP 800-38D); a directory seals a few per user, far below that.
NONCE_BYTES = 12
# GCM's full 128-bit tag.
TAG_BYTES = 16
# Format version byte, so the layout can change without guessing.
FORMAT_VERSION = 1
# Largest plaintext sealed: secrets are short; a bound catches misuse (e.g. sealing a file).
MAX_PLAINTEXT_BYTES = 64 * 1024

_HEADER_BYTES = 1 + NONCE_BYTES


class SecretBox:
    """Seals and opens small secrets with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError(f"secret box key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def generate(cls) -> SecretBox:
        """A box with a fresh random key (kept only in memory)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt and authenticate ``plaintext``, bound to ``context``."""
        if len(plaintext) > MAX_PLAINTEXT_BYTES:
            raise CryptoError(f"secret too large to seal (max {MAX_PLAINTEXT_BYTES} bytes)")
        nonce = secrets.token_bytes(NONCE_BYTES)
        return bytes([FORMAT_VERSION]) + nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt ``sealed``; :class:`CryptoError` if it was altered or has another context."""
        if len(sealed) < _HEADER_BYTES + TAG_BYTES or sealed[0] != FORMAT_VERSION:
            raise CryptoError("sealed secret is malformed")
        nonce = sealed[1:_HEADER_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[_HEADER_BYTES:], context)
        except InvalidTag:
            raise CryptoError("sealed secret failed authentication") from None
