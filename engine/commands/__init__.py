"""Writes: one function per user verb, each run as one transaction by ``run_command``."""
