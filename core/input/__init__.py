"""The host's input model: key mapping, pointer scaling and (in :mod:`.injector`) injection."""
