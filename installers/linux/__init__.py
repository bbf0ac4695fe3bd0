"""Linux packaging: the Debian packages."""
