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

from crustgf.config.schema import Layer, Variant
from crustgf.config.schema import apply_variant as apply_layer_changes
from crustgf.config.stored import parse_stored_config
from crustgf.config.variant_reader import read_stored_variants
from crustgf.core.errors import CrustgfError
from crustgf.fem.material import poisson_ratio

_PROPERTIES = ("vp", "vs", "density")


def variants_from_config_text(text: str, source: str = "model config") -> list[Variant]:
    """The `[[variants]]` of a config's TOML text, in SI (config.load's reader, the only one)."""
    return read_stored_variants(text, source)


def solver_table_from_config_text(text: str) -> dict:
    """The config's `[solver]` table as given (backend, rtol, batch, method, max_iterations)."""
    return dict(parse_stored_config(text).get("solver", {}))


def apply_variant(layers, variant: Variant):
    """A new LayerTable with the variant's changes applied (the input is not modified); the rule is
    config.schema.apply_variant's (a value replaces the property, a scale multiplies it)."""
    names = list(layers.name)
    for change in variant.changes:
        if change.layer not in names:
            raise CrustgfError(
                f"variants.{variant.name}: unknown layer {change.layer!r} (layers: {', '.join(names)})")
    rows = [Layer(n, float(b), float(vp), float(vs), float(rho))
            for n, b, vp, vs, rho in zip(names, layers.bottom, layers.vp, layers.vs, layers.density)]
    new = apply_layer_changes(rows, variant)
    table = replace(layers, **{p: np.array([getattr(r, p) for r in new], dtype=np.float64) for p in _PROPERTIES})
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
