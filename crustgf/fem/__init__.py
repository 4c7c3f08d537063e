"""Finite elements: the material law, shape functions, Numba element kernels, CSR assembly,
`ElasticProblem` (import from the submodules: importing this package stays cheap)."""
