"""Benchmarks, each a script run as `python bench/<name>.py`; shared helpers in bench.common."""
