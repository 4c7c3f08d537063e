"""Using Green's functions: forward synthetics, ABIC inversion, slip models, the variant ensemble."""
