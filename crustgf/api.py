"""The Python interface (SPEC section 7): read-only views of Green's-function files.

    import crustgf
    gf = crustgf.open("GF.h5")            # the reference structure; gf.variant("soft_crust") for a variant
    gf.displacement                       # (n_stations, 3, n_subfaults, 2), m per m of slip
    G = gf.matrix()                       # rows station x (east, north, up), columns subfault x (strike, dip)
    gf.stations.name, gf.stations.position, gf.subfaults.centroid, gf.subfaults.area
    da = gf.to_xarray()                   # xarray.DataArray with named dimensions and coordinates

Everything is in SI units (metres, m^2, Pa) and degrees, as in the file (SPEC sections 3 and 4).
The arrays are read into memory when the file is opened; the file itself is closed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.io.gfread import COMPONENTS, SLIP_COMPONENTS, GreensFunctions, Subfaults, load_greens_functions


@dataclass(frozen=True)
class Stations:
    """The stations of a Green's-function file, in input order."""

    name: np.ndarray  # (n,) str
    position: np.ndarray  # (n, 3) m: x east, y north, z up (local frame)
    lonlat: np.ndarray | None  # (n, 2) degrees, when the model has an origin

    def __len__(self) -> int:
        return len(self.name)


class GreensFunctionFile:
    """One structure (the reference or a variant) of a Green's-function file, in memory."""

    def __init__(self, data: GreensFunctions):
        self._data = data
        self.stations = Stations(np.array(data.station_names, dtype=str), data.station_positions,
                                 data.station_lonlat)
        self.subfaults: Subfaults = data.subfaults

    def __repr__(self) -> str:
        which = f"variant {self.name!r}" if self.name else "reference structure"
        return (f"<crustgf Green's functions {self.path}: {which}, {len(self.stations)} stations, "
                f"{self.subfaults.n} subfaults, {int(self.done.sum())} of {self.done.size} solves done>")

    @property
    def path(self) -> str:
        return self._data.path

    @property
    def name(self) -> str | None:
        """The variant's name; None for the reference structure."""
        return self._data.variant

    @property
    def variants(self) -> list[str]:
        """Names of every structure variant in the file."""
        return list(self._data.variants)

    @property
    def displacement(self) -> np.ndarray:
        """(n_stations, 3, n_subfaults, 2) m per m of slip; NaN where a solve is not done."""
        return self._data.displacement

    @property
    def done(self) -> np.ndarray:
        """(n_subfaults, 2) bool: which unit-slip solves are finished."""
        return self._data.done

    @property
    def attrs(self) -> dict:
        """Root attributes: crustgf_version, config (TOML text), model_sha256, frame, ..."""
        return dict(self._data.attrs)

    @property
    def layers(self) -> dict:
        """Material table of this structure (name, bottom, vp, vs, density, mu, lambda; SI)."""
        return dict(self._data.layers)

    @property
    def traction(self) -> np.ndarray | None:
        """(n_subfaults, 3, n_subfaults, 2) Pa per m (SPEC 6): traction change on each receiver
        (strike-slip, up-dip, normal) per unit slip on each source; None when not solved."""
        return self._data.traction

    def sensitivity(self, layer: str, parameter: str = "mu") -> np.ndarray:
        """dG/dmu (lambda held) or dG/dlambda (mu held) of a layer, like `displacement`, m/m/Pa."""
        key = (layer, parameter)
        if key not in self._data.sensitivity:
            have = sorted({lay for lay, _ in self._data.sensitivity}) or ["none"]
            raise CrustgfError(f"{self.path}: no sensitivity kernel {parameter} of layer {layer!r} "
                               f"(kernels of: {', '.join(have)}; solve with --sensitivity)")
        return self._data.sensitivity[key]

    @property
    def history(self) -> np.ndarray | None:
        """(n_times, n_stations, 3, n_subfaults, 2) viscoelastic response at `time`; None if elastic."""
        return self._data.history

    @property
    def time(self) -> np.ndarray | None:
        """(n_times,) s after the slip of each `history` snapshot."""
        return self._data.time

    def variant(self, name: str) -> "GreensFunctionFile":
        """The same file's Green's functions for structure variant `name`."""
        return open(self.path, variant=name)

    def matrix(self) -> np.ndarray:
        """G (3 n_stations, 2 n_subfaults): G[3 i + c, 2 j + s] = displacement[i, c, j, s]."""
        return self._data.matrix()

    def to_xarray(self):
        """The displacement as an xarray.DataArray with dimensions (station, component, subfault, slip)."""
        import xarray as xr

        st, sf = self.stations, self.subfaults
        coords = {
            "station": st.name,
            "component": list(COMPONENTS),
            "subfault": np.arange(sf.n),
            "slip": list(SLIP_COMPONENTS),
            "station_x": ("station", st.position[:, 0]),
            "station_y": ("station", st.position[:, 1]),
            "station_z": ("station", st.position[:, 2]),
            "subfault_x": ("subfault", sf.centroid[:, 0]),
            "subfault_y": ("subfault", sf.centroid[:, 1]),
            "subfault_z": ("subfault", sf.centroid[:, 2]),
            "subfault_area": ("subfault", sf.area),
            "subfault_strike": ("subfault", sf.strike),
            "subfault_dip": ("subfault", sf.dip),
            "done": (("subfault", "slip"), self.done),
        }
        if st.lonlat is not None:
            coords["station_lon"] = ("station", st.lonlat[:, 0])
            coords["station_lat"] = ("station", st.lonlat[:, 1])
        attrs = {k: v for k, v in self._data.attrs.items() if isinstance(v, (str, int, float))}
        attrs.update(units="m/m", long_name="displacement per unit slip", structure=self.name or "reference")
        return xr.DataArray(self.displacement, dims=("station", "component", "subfault", "slip"),
                            coords=coords, name="displacement", attrs=attrs)


def open(path, variant: str | None = None) -> GreensFunctionFile:  # noqa: A001 (crustgf.open, as SPEC 7)
    """Open a Green's-function file read-only (the reference structure, or `variant`)."""
    return GreensFunctionFile(load_greens_functions(Path(path), variant=variant))
