"""Benchmarks of issue 8 (not tests: pytest collects none of them). Run all: ``python -m tests.bench``."""
