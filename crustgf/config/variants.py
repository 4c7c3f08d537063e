"""Structure variants: the config's `[[variants]]`, applied to the model's layer table.

A variant changes the elastic properties of named layers (flat or plate layers) and is solved on
the same mesh. Each change sets a value (vp, vs in km/s, density in g/cm^3, as in the config) or
scales one (vp_scale, vs_scale, density_scale); a value and a scale of the same property may not
be combined. The solve reads the variants back from the config text stored in the model file
(`variants_from_config_text`), so it needs neither the config file nor its relative paths.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from crustgf.config.load import LayerChange, Variant, parse_stored_config
from crustgf.core.errors import CrustgfError
from crustgf.fem.material import poisson_ratio

_KM_PER_S = 1000.0  # km/s -> m/s
_G_PER_CM3 = 1000.0  # g/cm^3 -> kg/m^3
_PROPERTIES = ("vp", "vs", "density")


def variants_from_config_text(text: str, source: str = "model config") -> list[Variant]:
    """The `[[variants]]` of a config's TOML text, in SI (the config was validated when meshing)."""
    data = parse_stored_config(text, source)
    variants = []
    for i, entry in enumerate(data.get("variants", [])):
        changes = []
        for j, ch in enumerate(entry.get("changes", [])):
            where = f"variants[{i}].changes[{j}]"
            if "layer" not in ch:
                raise CrustgfError(f"{source}: {where}.layer: missing")
            changes.append(LayerChange(
                layer=ch["layer"],
                vp=_scaled(ch.get("vp"), _KM_PER_S), vs=_scaled(ch.get("vs"), _KM_PER_S),
                density=_scaled(ch.get("density"), _G_PER_CM3),
                vp_scale=ch.get("vp_scale"), vs_scale=ch.get("vs_scale"), density_scale=ch.get("density_scale"),
            ))
        variants.append(Variant(name=str(entry.get("name", f"variant{i}")), changes=changes))
    return variants


def solver_table_from_config_text(text: str) -> dict:
    """The config's `[solver]` table as given (backend, rtol, batch, method, max_iterations)."""
    return dict(parse_stored_config(text).get("solver", {}))


def apply_variant(layers, variant: Variant):
    """A new LayerTable with the variant's changes applied (the input is not modified)."""
    values = {p: np.array(getattr(layers, p), dtype=np.float64) for p in _PROPERTIES}
    names = list(layers.name)
    for change in variant.changes:
        if change.layer not in names:
            raise CrustgfError(
                f"variants.{variant.name}: unknown layer {change.layer!r} (layers: {', '.join(names)})")
        row = names.index(change.layer)
        for p in _PROPERTIES:
            value, scale = getattr(change, p), getattr(change, p + "_scale")
            if value is not None and scale is not None:
                raise CrustgfError(f"variants.{variant.name}: layer {change.layer!r} sets both {p} and {p}_scale")
            if value is not None:
                values[p][row] = value
            if scale is not None:
                values[p][row] *= scale
    table = replace(layers, **values)
    _check_physical(table, variant.name)
    return table


def _check_physical(table, name: str) -> None:
    for row, layer in enumerate(table.name):
        vp, vs, rho = table.vp[row], table.vs[row], table.density[row]
        if not (vp > 0 and vs > 0 and rho > 0):
            raise CrustgfError(f"variants.{name}: layer {layer!r} needs vp, vs, density > 0")
        nu = poisson_ratio(vp, vs)
        if not 0.0 < nu < 0.5:
            raise CrustgfError(f"variants.{name}: layer {layer!r} Poisson's ratio {nu:.3f} is not in (0, 0.5)")


def _scaled(value, factor):
    return None if value is None else float(value) * factor
