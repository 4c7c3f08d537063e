"""Config text as stored in model and GF files: parsed in one place."""

from __future__ import annotations

from crustgf.core.errors import CrustgfError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib



def parse_stored_config(text: str, source: str | None = None) -> dict:
    """A config's TOML text as stored in a model or GF file (already validated when meshing).

    The one place that parses stored config text. Unreadable text gives {} when `source` is None,
    else a one-line CrustgfError naming `source`.
    """
    try:
        return tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        if source is None:
            return {}
        raise CrustgfError(f"{source}: stored config is not valid TOML ({exc})") from None


def stored_origin(text: str) -> tuple[float, float] | None:
    """domain.origin (lon, lat) of a stored config text, or None."""
    origin = parse_stored_config(text).get("domain", {}).get("origin")
    return (float(origin[0]), float(origin[1])) if origin else None
