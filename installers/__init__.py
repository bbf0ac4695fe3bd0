"""Build recipes: frozen programs, Debian packages, the Windows installers."""
