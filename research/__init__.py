"""Drivers only the benchmarks and their tests call (not part of the installed package npsnn_edu)."""
