"""Meshing: config -> layered tetrahedral Model with a conforming fault (gmsh, OCC kernel)."""

from crustgf.mesh.build import build_model, fault_patches

__all__ = ["build_model", "fault_patches"]
