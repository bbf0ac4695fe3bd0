"""Deterministic desktop workloads for the media benchmarks (rendered offscreen with Qt)."""
