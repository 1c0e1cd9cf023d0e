"""Reads: projection tables only, never a workflow load."""
