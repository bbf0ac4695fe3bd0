"""Cryptography for links and for secrets at rest: TLS 1.3 contexts, self-signed identities and
their pins, and sealing with a given key; the files that hold keys are :mod:`storage`'s."""
