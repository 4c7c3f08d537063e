"""The CUDA backend: matrix-free TET10 block PCG in Numba-CUDA.

Modules: tet10 (element math, NumPy), reorder (RCM, element colouring), problem_data (host-side
preparation), ebe_kernels / vector_kernels / csr_kernels (CUDA kernels), device_ops / host_ops
(the same operations on the GPU and with NumPy), solver (CudaBlockPCG, the `.solve(B)` interface).
The algorithm itself is machine-independent: crustgf.solvers.block_pcg (the driver),
crustgf.solvers.preconditioners and crustgf.solvers.multigrid (the default TET10 -> TET4 -> AMG
V-cycle); synthetic box meshes are in crustgf.fem.boxmesh.
numba.cuda is imported only by the modules that launch kernels.
"""

from crustgf.solvers.cuda.solver import CudaBlockPCG

__all__ = ["CudaBlockPCG"]
