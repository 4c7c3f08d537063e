"""Fault geometry: frames and conventions, rectangular faults, faults from depth grids."""
