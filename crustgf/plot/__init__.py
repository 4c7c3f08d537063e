"""Figures (matplotlib): GF maps, model layout and sections, slip maps."""
