"""The map frame every map-view plot shares: lon/lat when the model has an origin, else x/y in km,
so GF maps, layouts and slip maps of one model use the same coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MapFrame:
    """Local metres -> plot coordinates: lon/lat (degrees) with an origin, else x/y in km."""

    origin: tuple[float, float] | None

    def __post_init__(self):
        if self.origin is not None:
            from crustgf.geometry.projection import Projection

            self._proj = Projection(self.origin)

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.origin is None:
            return np.asarray(x) / 1e3, np.asarray(y) / 1e3
        return self._proj.to_lonlat(x, y)

    @property
    def east_stretch(self) -> float:
        """Factor on east components so arrows keep true directions on these axes."""
        return 1.0 / np.cos(np.radians(self.origin[1])) if self.origin is not None else 1.0

    def decorate(self, ax) -> None:
        if self.origin is None:
            ax.set_xlabel("x (km, east)")
            ax.set_ylabel("y (km, north)")
            ax.set_aspect("equal")
        else:
            ax.set_xlabel("longitude (°E)")
            ax.set_ylabel("latitude (°N)")
            ax.set_aspect(self.east_stretch)
        ax.grid(True, lw=0.3, alpha=0.5)
