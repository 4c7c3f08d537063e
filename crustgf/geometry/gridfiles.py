"""One registry from a grid file's extension to its reader (the only place that picks the format).

Every reader returns a SurfaceGrid: axes increasing and equally spaced, values (len(b), len(a)) in
the unit and sign of the value column (VALUE_COLUMNS: elevation_m, metres above sea level, or
depth_km, km below sea level). Formats and their conventions: gridcsv (CSV), gridnetcdf (NetCDF),
geotiff (GeoTIFF).
"""

from __future__ import annotations

from pathlib import Path

from crustgf.core.tables import TableError
from crustgf.geometry.geotiff import read_geotiff_grid
from crustgf.geometry.gridcsv import read_csv_grid
from crustgf.geometry.gridnetcdf import read_netcdf_grid
from crustgf.geometry.lattice import SurfaceGrid, check_value

# extension (lower case) -> (format name, reader(path, value) -> SurfaceGrid)
READERS = {
    ".csv": ("CSV", read_csv_grid),
    ".txt": ("CSV", read_csv_grid),
    ".nc": ("NetCDF", read_netcdf_grid),
    ".nc4": ("NetCDF", read_netcdf_grid),
    ".grd": ("NetCDF", read_netcdf_grid),
    ".tif": ("GeoTIFF", read_geotiff_grid),
    ".tiff": ("GeoTIFF", read_geotiff_grid),
}


def known_extensions() -> str:
    by_format: dict[str, list[str]] = {}
    for ext, (fmt, _) in READERS.items():
        by_format.setdefault(fmt, []).append(ext)
    return "; ".join(f"{fmt} ({', '.join(exts)})" for fmt, exts in by_format.items())


def read_grid_file(path, value: str) -> SurfaceGrid:
    """The lattice in a grid file of any known format (chosen by the extension, case-insensitive)."""
    check_value(value)
    ext = Path(path).suffix.lower()
    if ext not in READERS:
        raise TableError(f"unknown grid file type '{ext or Path(path).name}'; grids are {known_extensions()}")
    return READERS[ext][1](path, value)
