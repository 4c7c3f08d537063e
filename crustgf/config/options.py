"""`[mesh]` and `[solver]`: meshing and solver options with their defaults."""

from __future__ import annotations

from crustgf.config.checker import _positive, _show
from crustgf.config.schema import BACKENDS, KM, METHODS, MeshOptions, SolverOptions


def _read_mesh(ck, root):
    sec = root.table("mesh", ("order", "size_fault", "size_max"), required=False)
    d = MeshOptions()
    if sec is None:
        return d
    order = sec.integer("order", required=False, default=d.order)
    if order is not None:
        ck.require(order in (1, 2), sec.at("order"), f"must be 1 or 2, got {order}")
    size_fault = sec.number("size_fault", required=False, default=d.size_fault / KM)
    size_max = sec.number("size_max", required=False, default=d.size_max / KM)
    if _positive(ck, sec, "size_fault", size_fault) and size_max is not None:
        ck.require(size_max >= size_fault, sec.at("size_max"),
                   f"must be >= size_fault = {_show(size_fault)}, got {_show(size_max)}")
    if None in (order, size_fault, size_max):
        return d
    return MeshOptions(order, size_fault * KM, size_max * KM)


def _read_solver(ck, root):
    sec = root.table("solver", ("backend", "rtol", "batch", "method", "max_iterations", "traction",
                                "sensitivity"), required=False)
    d = SolverOptions()
    if sec is None:
        return d
    backend = sec.string("backend", required=False, default=d.backend, choices=BACKENDS)
    method = sec.string("method", required=False, default=d.method, choices=METHODS)
    rtol = sec.number("rtol", required=False, default=d.rtol)
    if rtol is not None:
        ck.require(0.0 < rtol < 1.0, sec.at("rtol"), f"must be in (0, 1), got {_show(rtol)}")
    batch = sec.integer("batch", required=False, default=d.batch)
    if batch is not None:
        ck.require(batch >= 1, sec.at("batch"), f"must be >= 1, got {batch}")
    max_it = sec.integer("max_iterations", required=False, default=d.max_iterations)
    if max_it is not None:
        ck.require(max_it >= 1, sec.at("max_iterations"), f"must be >= 1, got {max_it}")
    traction, sensitivity = _read_extras_options(ck, sec)
    if None in (backend, method, rtol, batch, max_it):
        return d
    return SolverOptions(backend, rtol, batch, method, max_it, traction, sensitivity)


def _read_extras_options(ck, sec):
    """[solver] traction (bool) and sensitivity ("all" or a list of layer names; checked at solve)."""
    traction = sec.data.get("traction", False)
    ck.require(isinstance(traction, bool), sec.at("traction"), f"must be true or false, got {traction!r}")
    sens = sec.data.get("sensitivity")
    ok = sens is None or sens == "all" or (isinstance(sens, list) and all(isinstance(v, str) for v in sens))
    ck.require(ok, sec.at("sensitivity"), f'must be "all" or a list of layer names, got {sens!r}')
    return bool(traction), (sens if ok else None)
