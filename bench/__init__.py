"""Benchmarks for failure extraction and clustering (run as scripts)."""
