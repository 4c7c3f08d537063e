"""Structure sensitivity kernels: exact derivatives of the displacement Green's functions with
respect to each layer's mu (lambda held) and lambda (mu held), on the same FE operator (SPEC 6).

The element stiffness is linear in the moduli, K_e = mu_e K_e[mu=1, lam=0] + lam_e K_e[mu=0, lam=1],
and so is the split-node operator M (built from the hanging elements' K_e). With
K u_c = -M d (free dofs) and station displacement P u_c + Q d (Q does not depend on the moduli):

    K (du_c/dp) = -(dK/dp u_c + dM/dp d),      dG/dp = P du_c/dp

dK/dp and dM/dp are K and M assembled over the layer's elements alone with (mu, lam) = (1, 0) for
p = mu or (0, 1) for p = lambda. dK/dp u_c + dM/dp d is the layer's unit-modulus element forces of
the whole (discontinuous) displacement. One more solve per (job, parameter), with the factor / AMG
hierarchy / GPU solver already built for the Green's functions; the right-hand sides are formed on
the host with scipy, so every backend's `solve(B)` serves.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crustgf.core.errors import CrustgfError
from crustgf.fem.assembly import assemble_stiffness
from crustgf.fem.splitnode import jump_operator

PARAMETERS = ("mu", "lambda")
_UNIT = {"mu": (1.0, 0.0), "lambda": (0.0, 1.0)}


def resolve_layers(value, layer_names) -> tuple[str, ...]:
    """`[solver] sensitivity` / `--sensitivity`: None, [] -> (); "all" -> every layer; names checked."""
    if value is None or value is False or value == "" or (not isinstance(value, str) and len(value) == 0):
        return ()
    names = list(layer_names)
    if isinstance(value, str):
        value = names if value.strip() == "all" else [v.strip() for v in value.split(",") if v.strip()]
    value = [str(v) for v in value]
    if "all" in value:
        return tuple(names)
    unknown = [v for v in value if v not in names]
    if unknown:
        raise CrustgfError(f"solver.sensitivity: unknown layer {unknown[0]!r} (layers: {', '.join(names)})")
    return tuple(dict.fromkeys(value))


def output_names(layers) -> list[tuple[str, str, str]]:
    """(dataset path, layer, parameter) of every kernel, in a fixed order."""
    return [(f"sensitivity/{layer}/{p}", layer, p) for layer in layers for p in PARAMETERS]


class SensitivityKernels:
    """Per (layer, parameter): dK/dp restricted to the free dofs and dM/dp (module doc)."""

    def __init__(self, problem, material, layer_names, layers, inc, n_split):
        names = list(layer_names)
        self.outputs = output_names(layers)
        self.ops = []
        free = problem.free_dofs
        for _path, layer, p in self.outputs:
            sel = np.asarray(material) == names.index(layer)
            if not sel.any():
                raise CrustgfError(f"solver.sensitivity: layer {layer!r} has no elements in this mesh")
            m_unit, l_unit = _UNIT[p]
            Kp = assemble_stiffness(problem.nodes, problem.cells[sel], m_unit, l_unit)
            Kp = sp.csr_matrix(Kp[free][:, free])
            Mp = jump_operator(problem.nodes, problem.cells, m_unit * sel, l_unit * sel, inc, n_split, free)
            self.ops.append((Kp, Mp))

    def right_hand_sides(self, X, D) -> np.ndarray:
        """(n_free, n_params * k): -(dK/dp X + dM/dp D) for every parameter, parameter-major."""
        return np.hstack([-(Kp @ X + Mp @ D) for Kp, Mp in self.ops])
