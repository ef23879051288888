"""Benchmarks. `make bench` runs every module in this folder that defines `main()`; each prints a table."""
