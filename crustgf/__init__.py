"""crustgf: crustal-deformation Green's functions on layered 3D finite-element models."""

__version__ = "0.1.0"
