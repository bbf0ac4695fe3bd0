"""The system's logic, sans I/O: protocol, crypto, auth, media, input and policy, which the relay
and the apps drive; nothing here opens a socket, a display or a file of its own.

(``ssl`` loads a key only from a file, so :mod:`core.crypto.tls` passes it through a private
temporary one; ``core/`` imports nothing of the project outside itself.)
"""
