"""Linear solvers for the reduced (free-dof) stiffness system K X = B with many right-hand sides.

Every solver object has the same tiny interface (the CUDA backend plugs in through backend.py):

    solver.solve(B) -> (X, residual, iterations)

B (n_free, k) float64; X the solution; residual (k,) the TRUE relative residual
||b - K x||_2 / ||b||_2, recomputed in float64 after the solve (residual.py); iterations (k,) int
(1 for direct).

One algorithm, several machines: the block PCG (block_pcg.py) and its preconditioners
(preconditioners.py: Jacobi, Chebyshev; multigrid.py: the TET10 -> TET4 -> AMG V-cycle) are written
against an `ops` object, run on the CPU by Numba kernels (cpu/multigrid.py, cpu/kernels.py) and on
the GPU by CUDA kernels (cuda/). PARDISO and AMG block CG are in cpu/. choose.py picks the CPU
method and the preconditioner, backend.py the backend.
"""
