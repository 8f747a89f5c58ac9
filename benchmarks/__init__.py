"""Benchmarks of notebook 04: scripts that print figures (not timed tests). See README.md."""
