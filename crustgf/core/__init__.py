"""Shared basics: user errors, progress bars, atomic writes, small CSV tables."""
