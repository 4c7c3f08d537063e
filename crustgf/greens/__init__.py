"""Green's functions: the operator (stiffness, solver, stations), the solve run, its journal, dispatch."""
