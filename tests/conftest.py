"""Shared test settings."""

from hypothesis import HealthCheck, settings

# CI machines have 2 busy cores: judge properties by their results, never by wall time.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
