"""`[[variants]]`: structure variants, read by the same code for a config file and a stored config."""

from __future__ import annotations

from crustgf.config.checker import _Checker, _positive, _Section, _show
from crustgf.config.layers import _LayerEntry, _plausible_units
from crustgf.config.schema import G_CM3, KM_S, ROOT_KEYS, LayerChange, Variant, apply_variant
from crustgf.config.stored import parse_stored_config
from crustgf.core.errors import CrustgfError
from crustgf.fem.material import poisson_ratio

CHANGE_KEYS = ("layer", "vp", "vs", "density", "vp_scale", "vs_scale", "density_scale")


def read_stored_variants(text: str, source: str = "model config") -> list[Variant]:
    """The `[[variants]]` of a stored config text (validated when meshing) in SI, by the same
    reader as load_config's; layer names are checked where the variants are applied."""
    ck = _Checker()
    root = _Section(ck, parse_stored_config(text, source), "", ROOT_KEYS)
    variants = _read_variants(ck, root, None)
    if ck.problems:
        raise CrustgfError(f"{source}: " + "; ".join(ck.problems))
    return variants


def _read_variants(ck, root, entries: list[_LayerEntry] | None) -> list[Variant]:
    """entries: the config's layers (names checked, changed layers checked for physics); None for
    a stored config, whose layers are the model's."""
    secs = root.tables("variants", ("name", "changes"), required=False)
    names = None if entries is None else list(dict.fromkeys(e.name for e in entries if e.name is not None))
    out, seen = [], set()
    for sec in secs or []:
        name = sec.string("name")
        if name is not None:
            ok = ck.require("/" not in name, sec.at("name"), f"must not contain '/', got {_show(name)}")
            ok &= ck.require(name not in seen, sec.at("name"), f"variant name {_show(name)} is used twice")
            seen.add(name)
            name = name if ok else None
        changes = sec.tables("changes", CHANGE_KEYS)
        read = [_read_change(ck, c, names) for c in changes or []]
        if name is None or changes is None or None in read:
            continue
        variant = Variant(name, read)
        if entries is None or _check_variant(ck, sec, variant, entries):
            out.append(variant)
    return out


def _read_change(ck, sec, layer_names):
    """A LayerChange in SI (values) or factors (scales), or None when it has a problem."""
    layer = sec.string("layer")
    if layer is not None and layer_names is not None and not ck.require(
            layer in layer_names, sec.at("layer"),
            f"no layer named {_show(layer)} (layers: {', '.join(layer_names)})"):
        layer = None
    values, ok = {}, True
    for prop, unit in (("vp", KM_S), ("vs", KM_S), ("density", G_CM3)):
        scale = prop + "_scale"
        if sec.has(prop) and sec.has(scale):
            ck.add(sec.path, f"give {prop} or {scale}, not both")
            ok = False
            continue
        for key, factor in ((prop, unit), (scale, 1.0)):
            if sec.has(key):
                v = sec.number(key)
                if _positive(ck, sec, key, v) and (key == scale or _plausible_units(ck, sec, key, v)):
                    values[key] = v * factor
                else:
                    ok = False
    if not any(sec.has(k) for k in CHANGE_KEYS[1:]):
        ck.add(sec.path, "changes nothing: give vp, vs, density or a *_scale")
        ok = False
    return LayerChange(layer, **values) if ok and layer is not None else None


def _check_variant(ck, sec, variant, entries) -> bool:
    """Each layer changed at most once, and every changed layer still physical."""
    ok, changed = True, {}
    for i, c in enumerate(variant.changes):
        ok &= ck.require(c.layer not in changed, f"{sec.path}.changes[{i}]",
                         f"layer {_show(c.layer)} is changed twice")
        changed.setdefault(c.layer, i)
    layers = [e.layer for e in entries]
    if not ok or None in layers:  # a bad reference layer is reported already
        return ok
    for new in apply_variant(layers, variant):
        if new.name in changed:
            nu = poisson_ratio(new.vp, new.vs)
            ok &= ck.require(0.0 < nu < 0.5, f"{sec.path}.changes[{changed[new.name]}]",
                             f"layer {_show(new.name)} would have Poisson's ratio {nu:.4g} "
                             f"(vp = {new.vp / KM_S:.4g}, vs = {new.vs / KM_S:.4g} km/s); "
                             "it must be strictly between 0 and 0.5")
    return ok
