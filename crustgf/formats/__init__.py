"""Export formats of the Green's functions: one module per format (npz, csv, matrix)."""
