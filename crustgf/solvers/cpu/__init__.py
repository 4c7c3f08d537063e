"""CPU solvers: PARDISO/SuperLU factorisation and the AMG block CG."""
