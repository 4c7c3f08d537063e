"""Small configs for the mesher tests (coarse: a few thousand elements each)."""

from __future__ import annotations

import numpy as np

from crustgf.config import Config, Domain, Layer, MeshOptions, RectangleFault, Stations

KM = 1e3
INTERFACE = 12 * KM  # depth of the one layer interface
DOMAIN = Domain(x=(-50 * KM, 50 * KM), y=(-50 * KM, 50 * KM), depth=40 * KM, origin=None)


def make_config(strike=30.0, dip=35.0, top_depth=5.0, length=20.0, width=10.0, subfaults=(4, 2),
                order=2, size_fault=2.5, size_max=15.0, domain=DOMAIN) -> Config:
    """Two flat layers (interface at 12 km), one rectangular fault, two stations on the surface."""
    return Config(
        name="test",
        domain=domain,
        layers=[Layer("crust", INTERFACE, 6000.0, 3500.0, 2700.0),
                Layer("mantle", domain.depth, 8000.0, 4500.0, 3300.0)],
        fault=RectangleFault(top_center=(0.0, 0.0, top_depth * KM), strike=strike, dip=dip,
                             length=length * KM, width=width * KM, subfaults=subfaults),
        stations=Stations(names=["A", "B"], positions=np.array([[10 * KM, 5 * KM, 0.0], [-20 * KM, 0.0, 0.0]]),
                          lonlat=None),
        mesh=MeshOptions(order=order, size_fault=size_fault * KM, size_max=size_max * KM),
        text="[model]\nname = \"test\"\n",
    )


# (strike, dip, top depth km, order): buried, crossing the interface; vertical and reaching the
# surface; shallow-dipping reaching the surface, linear; steep buried with strike past 180
CASES = {
    "buried_30_35": dict(strike=30.0, dip=35.0, top_depth=5.0, order=2),
    "surface_120_90": dict(strike=120.0, dip=90.0, top_depth=0.0, order=2),
    "surface_0_20_linear": dict(strike=0.0, dip=20.0, top_depth=0.0, order=1),
    "buried_250_70": dict(strike=250.0, dip=70.0, top_depth=3.0, order=2),
}
