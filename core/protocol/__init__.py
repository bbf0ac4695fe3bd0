"""The wire protocol, sans I/O: framing, the relay link's state machine and control messages, and
the session messages and notices between viewer and office PC."""
