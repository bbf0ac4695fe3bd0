"""The host's input model, free of I/O: key mapping, pointer scaling and dispatch to a backend."""
