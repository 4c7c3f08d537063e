"""Finite elements: shape functions, Numba element kernels, CSR assembly, `ElasticProblem`."""

from .assembly import assemble_stiffness
from .elements import element_stiffness
from .problem import ElasticProblem

__all__ = ["ElasticProblem", "assemble_stiffness", "element_stiffness"]
