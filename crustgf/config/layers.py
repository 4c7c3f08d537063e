"""`[[layers]]` and `[[plate_layers]]`: materials in km/s and g/cm^3, checked for units and physics."""

from __future__ import annotations

import math
from dataclasses import dataclass

from crustgf.config.checker import _is_number, _join, _positive, _show
from crustgf.config.schema import G_CM3, KM, KM_S, Layer
from crustgf.fem.material import poisson_ratio

MATERIAL_KEYS = ("vp", "vs", "density")


@dataclass
class _LayerEntry:
    """A [[layers]] or [[plate_layers]] table as read: its name (if a valid string), key path, and
    the Layer (None when any of its values has a problem)."""

    name: str | None
    path: str
    layer: Layer | None


# Above these, a value was almost surely given in SI units (m/s, kg/m^3) instead of km/s, g/cm^3.
UNIT_LIMITS = {"vp": (20.0, "km/s", "m/s"), "vs": (20.0, "km/s", "m/s"), "density": (10.0, "g/cm^3", "kg/m^3")}


def _plausible_units(ck, sec, key, value) -> bool:
    """No rock has velocities over 20 km/s or densities over 10 g/cm^3: suggest the unit slip."""
    limit, unit, si = UNIT_LIMITS[key]
    return value is None or ck.require(
        value <= limit, sec.at(key),
        f"{_show(value)} {unit} is over {limit:g} {unit}, more than any rock; {key} is in {unit}, "
        f"not {si}: did you mean {value / 1000.0:g}?")


def _read_material(ck, sec):
    """(vp, vs, density) in SI, or None; checks positivity, plausible units and Poisson's ratio."""
    vp, vs, rho = (sec.number(k) for k in MATERIAL_KEYS)
    ok = [_positive(ck, sec, k, v) and _plausible_units(ck, sec, k, v) for k, v in zip(MATERIAL_KEYS, (vp, vs, rho))]
    if ok[0] and ok[1]:
        nu = poisson_ratio(vp, vs)
        ok.append(ck.require(0.0 < nu < 0.5, sec.path,
                             f"Poisson's ratio must be strictly between 0 and 0.5 (needs vp > sqrt(2) vs), "
                             f"got {nu:.4g} from vp = {_show(vp)}, vs = {_show(vs)}"))
    return (vp * KM_S, vs * KM_S, rho * G_CM3) if all(ok) else None


def _read_flat_layers(ck, root, domain, proj=None, base=None, warnings=None) -> list[_LayerEntry]:
    """Bottoms strictly increasing, the last at domain.depth. A bottom may be a surface
    (`bottom = { file = ... }`, config/layer_surfaces.py): those are checked against all others
    point by point (crossing) once the free surface is read too (check_layer_surfaces)."""
    secs = root.tables("layers", ("name", "bottom") + MATERIAL_KEYS + ("viscosity",))
    out = []
    if secs is None:
        return out
    previous = 0.0
    for i, sec in enumerate(secs):
        name = sec.string("name")
        last = i == len(secs) - 1  # may omit bottom: it reaches the bottom of the model
        surface, bottom = None, None
        if isinstance(sec.data.get("bottom"), dict):
            if ck.require(not last, sec.at("bottom"), "the last layer reaches the bottom of the model: "
                          "its bottom cannot be a surface (give a number or omit it)"):
                from crustgf.config.layer_surfaces import read_bottom_surface

                surface = read_bottom_surface(ck, sec, proj, base, warnings if warnings is not None else [])
                bottom = 0.0 if surface is not None else None  # set to its mean depth once all are read
        else:
            bottom = sec.number("bottom", required=not last)
            if last and not sec.has("bottom") and domain.depth is not None:
                bottom = domain.depth / KM
            if bottom is not None:
                if ck.require(bottom > previous, sec.at("bottom"),
                              f"must be > {_show(previous)} (the flat layer bottom above, or the surface), "
                              f"got {_show(bottom)}"):
                    previous = bottom
        mat = _read_material(ck, sec)
        ok = name is not None and bottom is not None and mat is not None
        out.append(_LayerEntry(name, sec.path, Layer(name, bottom * KM, *mat, surface) if ok else None))
    last = secs[-1].data.get("bottom")  # checked above; here only its relation to the domain
    if _is_number(last) and domain.depth is not None and not domain.auto[2] and not math.isclose(
            last * KM, domain.depth, rel_tol=1e-12):
        ck.add(secs[-1].at("bottom"),
               f"the last layer must end at domain.depth = {_show(domain.depth / KM)}, got {_show(last)}")
    return out


def _read_plate_layers(ck, root) -> list[_LayerEntry]:
    """Plate layers below the plate interface; `bottom` holds the thickness (m), inf for the last
    one when it omits `thickness` (it reaches the domain bottom)."""
    secs = root.tables("plate_layers", ("name", "thickness") + MATERIAL_KEYS + ("viscosity",), required=False)
    if not secs:
        return []
    fault_table = root.data.get("fault")
    if isinstance(fault_table, dict) and fault_table.get("type") == "rectangle":
        ck.add("plate_layers", 'only allowed with fault.type = "grid" (they follow the plate interface)')
    out = []
    for i, sec in enumerate(secs):
        name = sec.string("name")
        last = i == len(secs) - 1
        thickness = sec.number("thickness", required=not last, default=math.inf)
        if thickness is not None and not _positive(ck, sec, "thickness", thickness):
            thickness = None
        mat = _read_material(ck, sec)
        ok = name is not None and thickness is not None and mat is not None
        out.append(_LayerEntry(name, sec.path, Layer(name, thickness * KM, *mat) if ok else None))
    return out


def _check_unique_layer_names(ck, entries):
    """Flat and plate layer names together: variants refer to layers by name."""
    seen = set()
    for e in entries:
        if e.name is not None:
            ck.require(e.name not in seen, _join(e.path, "name"), f"layer name {_show(e.name)} is used twice")
            seen.add(e.name)
