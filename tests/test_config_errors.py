"""Every config check, through the real CLI: `crustgf mesh bad.toml -o out` must fail with one line
`Error: ...` naming the key, a non-zero exit status, and no output file.

Each case starts from a valid config (test_config.base_config or grid_config), changes one thing,
and expects the problem at `key` with a message containing `what`. load_config runs before the
mesher, so these are cheap: in-process with click's CliRunner, plus a few real subprocesses.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_config import DELETE, base_config, edit, grid_config, plane_grid_xy, write_config

from crustgf.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

P = pytest.param
# (edits {key path: value or DELETE}, extra files, expected key, expected words)
CASES = [
    # missing required keys
    P({"model.name": DELETE}, {}, "model.name", "missing required key", id="missing-model-name"),
    # (domain.x, y, depth may be omitted: crustgf sizes the box, SPEC 5; test_farfield.py)
    P({"layers[0].vp": DELETE}, {}, "layers[0].vp", "missing required key", id="missing-layer-vp"),
    P({"fault.dip": DELETE}, {}, "fault.dip", "missing required key", id="missing-fault-dip"),
    P({"fault.type": DELETE}, {}, "fault.type", "missing required key", id="missing-fault-type"),
    P({"fault": DELETE}, {}, "fault", "missing required key", id="missing-fault"),
    P({"layers": DELETE}, {}, "layers", "missing required key", id="missing-layers"),
    P({"stations": DELETE}, {}, "stations", "missing required key", id="missing-stations"),
    # wrong types
    P({"layers[0].vs": "fast"}, {}, "layers[0].vs", "must be a number", id="type-string-for-number"),
    P({"solver.rtol": True}, {}, "solver.rtol", "must be a number", id="type-bool-for-number"),
    P({"domain.depth": float("nan")}, {}, "domain.depth", "finite", id="type-nan"),
    P({"mesh.order": 2.0}, {}, "mesh.order", "must be an integer", id="type-float-for-integer"),
    P({"solver.batch": 1.5}, {}, "solver.batch", "must be an integer", id="type-batch-float"),
    P({"model.name": 3}, {}, "model.name", "must be a string", id="type-number-for-string"),
    P({"domain.x": 5.0}, {}, "domain.x", "array of 2 numbers", id="type-number-for-array"),
    P({"fault.top_center": [0.0, 0.0]}, {}, "fault.top_center", "array of 3 numbers", id="type-short-array"),
    P({"fault.subfaults": [4.0, 2.0]}, {}, "fault.subfaults", "positive integers", id="type-float-counts"),
    P({"stations.grid": "dense"}, {}, "stations.grid", "must be a table", id="type-string-for-table"),
    P({"model": "x"}, {}, "model", "must be a table", id="type-string-for-section"),
    # unknown keys, at every level
    P({"colour": "red"}, {}, "colour", "unknown key", id="unknown-top-level"),
    P({"model.title": "x"}, {}, "model.title", "unknown key", id="unknown-in-model"),
    P({"domain.origin_lon": 1.0}, {}, "domain.origin_lon", "unknown key", id="unknown-in-domain"),
    P({"layers[1].poisson": 0.25}, {}, "layers[1].poisson", "unknown key", id="unknown-in-layer"),
    P({"fault.rake": 90.0}, {}, "fault.rake", "unknown key", id="unknown-in-fault"),
    P({"fault.file": "x.csv"}, {}, "fault.file", 'not a key of a fault of type = "rectangle"',
      id="unknown-grid-key-in-rectangle"),
    P({"stations.grid": {"x": [0.0, 1.0], "y": [0.0, 1.0], "spacing": 1.0, "offset": 2.0}}, {},
      "stations.grid.offset", "unknown key", id="unknown-in-station-grid"),
    P({"mesh.algorithm": "delaunay"}, {}, "mesh.algorithm", "unknown key", id="unknown-in-mesh"),
    P({"solver.tolerance": 1e-6}, {}, "solver.tolerance", "unknown key", id="unknown-in-solver"),
    P({"solver.traction": "yes"}, {}, "solver.traction", "must be true or false", id="traction-not-bool"),
    P({"solver.sensitivity": 3}, {}, "solver.sensitivity", '"all" or a list of layer names', id="sensitivity-type"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "qp": 100.0}]}]}, {},
      "variants[0].changes[0].qp", "unknown key", id="unknown-in-variant-change"),
    # materials
    P({"layers[1].vs": -3.0}, {}, "layers[1].vs", "must be > 0, got -3.0", id="vs-negative"),
    P({"layers[0].vp": 0.0}, {}, "layers[0].vp", "must be > 0, got 0.0", id="vp-zero"),
    P({"layers[0].density": -2.7}, {}, "layers[0].density", "must be > 0", id="density-negative"),
    P({"layers[0].vp": 4.0}, {}, "layers[0]", "Poisson's ratio", id="poisson-negative"),
    P({"layers[0].vp": 3.0}, {}, "layers[0]", "Poisson's ratio", id="poisson-vp-below-vs"),
    P({"layers[1].name": "upper"}, {}, "layers[1].name", "used twice", id="layer-name-twice"),
    # layer bottoms
    P({"layers[1].bottom": 5.0}, {}, "layers[1].bottom", "must be > 10.0", id="bottoms-not-increasing"),
    P({"layers[0].bottom": 0.0}, {}, "layers[0].bottom", "must be > 0", id="bottom-at-surface"),
    P({"layers[1].bottom": 25.0}, {}, "layers[1].bottom", "must end at domain.depth", id="last-bottom-short"),
    P({"domain.depth": 40.0}, {}, "layers[1].bottom", "must end at domain.depth", id="last-bottom-domain"),
    # domain
    P({"domain.x": [50.0, -50.0]}, {}, "domain.x", "must be increasing", id="domain-x-decreasing"),
    P({"domain.y": [0.0, 0.0]}, {}, "domain.y", "must be increasing", id="domain-y-empty"),
    P({"domain.depth": -30.0}, {}, "domain.depth", "must be > 0", id="domain-depth-negative"),
    P({"domain.origin": [135.5, 95.0]}, {}, "domain.origin", "latitude", id="origin-latitude"),
    P({"domain.origin": [400.0, 33.0]}, {}, "domain.origin", "longitude", id="origin-longitude"),
    P({"domain.origin": [135.5]}, {}, "domain.origin", "array of 2 numbers", id="origin-short"),
    # rectangle fault
    P({"fault.type": "plane"}, {}, "fault.type", "must be one of rectangle, grid", id="fault-type"),
    P({"fault.dip": 0.0}, {}, "fault.dip", "(0, 90]", id="dip-zero"),
    P({"fault.dip": 90.5}, {}, "fault.dip", "(0, 90]", id="dip-over-90"),
    P({"fault.length": 0.0}, {}, "fault.length", "must be > 0", id="length-zero"),
    P({"fault.width": -1.0}, {}, "fault.width", "must be > 0", id="width-negative"),
    P({"fault.subfaults": [0, 2]}, {}, "fault.subfaults", "positive integers", id="subfaults-zero"),
    P({"fault.subfaults": [4]}, {}, "fault.subfaults", "positive integers", id="subfaults-one-number"),
    P({"fault.top_center": [0.0, 0.0, -0.5]}, {}, "fault.top_center", "not above the free surface",
      id="fault-above-surface"),
    P({"fault.length": 120.0}, {}, "fault", "strictly inside the domain", id="fault-longer-than-domain"),
    P({"fault.top_center": [48.0, 0.0, 1.0]}, {}, "fault", "strictly inside the domain", id="fault-past-side"),
    P({"fault.dip": 90.0, "fault.width": 29.0}, {}, "fault", "strictly inside the domain",
      id="fault-reaches-bottom"),
    # stations
    P({"stations": {}}, {}, "stations", "give a file or a grid", id="stations-none"),
    P({"stations.file": "nope.csv"}, {}, "stations.file", "file not found", id="station-file-missing"),
    P({"stations.file": "s.csv"}, {"s.csv": "station,x,y\nA,1,2\n"}, "stations.file", "'name' column",
      id="station-file-no-name"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,east,north\nA,1,2\n"}, "stations.file", "needs columns",
      id="station-file-no-coordinates"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y\nA,1,two\n"}, "stations.file", "line 2",
      id="station-file-not-a-number"),
    P({"stations.file": "s.csv", "domain.origin": DELETE}, {"s.csv": "name,lon,lat\nA,135.5,33\n"},
      "stations.file", "domain.origin is required", id="station-lonlat-without-origin"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y\nA,1,2\nB,3,4\nA,5,6\n"}, "stations",
      "unique; repeated: A", id="station-names-repeated"),
    P({"stations.grid": {"x": [0.0, 0.0], "y": [0.0, 0.0], "spacing": 1.0}}, {"stations.csv": "name,x,y\nG0001,1,2\n"},
      "stations", "repeated: G0001", id="station-name-clashes-with-grid"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y\nA,1,2\nFAR,60,0\n"}, "stations",
      "outside the domain: FAR", id="station-outside"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y\nEDGE,50,0\n"}, "stations", "outside the domain",
      id="station-on-side"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y,z\nUP,1,2,0.5\n"}, "stations", "above the free surface",
      id="station-above-surface"),
    P({"stations.file": "s.csv"}, {"s.csv": "name,x,y,depth\nLOW,1,2,31\n"}, "stations", "outside the domain",
      id="station-below-bottom"),
    P({"stations.file": "s.csv"}, {"s.csv": "# nothing yet\nname,x,y\n"}, "stations", "no stations",
      id="stations-empty-file"),
    P({"stations.grid": {"x": [0.0, 1.0], "y": [0.0, 1.0], "spacing": 0.0}}, {}, "stations.grid.spacing",
      "must be > 0", id="station-grid-spacing"),
    P({"stations.grid": {"x": [1.0, 0.0], "y": [0.0, 1.0], "spacing": 1.0}}, {}, "stations.grid.x",
      "increasing", id="station-grid-decreasing"),
    P({"stations.grid": {"x": [0.0, 60.0], "y": [0.0, 1.0], "spacing": 20.0}}, {}, "stations",
      "outside the domain", id="station-grid-outside"),
    # mesh
    P({"mesh.order": 3}, {}, "mesh.order", "must be 1 or 2", id="mesh-order"),
    P({"mesh.size_fault": 0.0}, {}, "mesh.size_fault", "must be > 0", id="mesh-size-fault"),
    P({"mesh.size_max": 1.0}, {}, "mesh.size_max", "must be >= size_fault", id="mesh-size-max"),
    # solver
    P({"solver.backend": "gpu"}, {}, "solver.backend", "one of auto, cpu, cuda", id="solver-backend"),
    P({"solver.method": "cg"}, {}, "solver.method", "one of auto, direct, amg-cg", id="solver-method"),
    P({"solver.rtol": 0.0}, {}, "solver.rtol", "(0, 1)", id="solver-rtol-zero"),
    P({"solver.rtol": 1.0}, {}, "solver.rtol", "(0, 1)", id="solver-rtol-one"),
    P({"solver.batch": 0}, {}, "solver.batch", "must be >= 1", id="solver-batch"),
    P({"solver.max_iterations": 0}, {}, "solver.max_iterations", "must be >= 1", id="solver-max-iterations"),
    # variants
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "vp_scale": 1.1}]},
                    {"name": "v", "changes": [{"layer": "lower", "vp_scale": 1.1}]}]}, {},
      "variants[1].name", "used twice", id="variant-name-twice"),
    P({"variants": [{"name": "a/b", "changes": [{"layer": "upper", "vp_scale": 1.1}]}]}, {},
      "variants[0].name", "'/'", id="variant-name-slash"),
    P({"variants": [{"name": "v", "changes": [{"layer": "crust", "vp": 6.0}]}]}, {},
      "variants[0].changes[0].layer", 'no layer named "crust"', id="variant-unknown-layer"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "vp": 6.0, "vp_scale": 1.1}]}]}, {},
      "variants[0].changes[0]", "vp or vp_scale, not both", id="variant-value-and-scale"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper"}]}]}, {},
      "variants[0].changes[0]", "changes nothing", id="variant-no-change"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "vs_scale": -1.0}]}]}, {},
      "variants[0].changes[0].vs_scale", "must be > 0", id="variant-negative-scale"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "vs_scale": 2.0}]}]}, {},
      "variants[0].changes[0]", "would have Poisson's ratio", id="variant-unphysical"),
    P({"variants": [{"name": "v", "changes": [{"layer": "upper", "vp_scale": 1.1},
                                              {"layer": "upper", "vs_scale": 1.1}]}]}, {},
      "variants[0].changes[1]", "changed twice", id="variant-layer-twice"),
    P({"variants": [{"name": "v"}]}, {}, "variants[0].changes", "missing required key",
      id="variant-without-changes"),
    # plate layers (with a rectangle fault)
    P({"plate_layers": [{"name": "slab", "vp": 8.0, "vs": 4.5, "density": 3.3}]}, {}, "plate_layers",
      'only allowed with fault.type = "grid"', id="plate-layers-with-rectangle"),
]

GRID_CASES = [
    P({"fault.file": "nope.csv"}, {}, "fault.file", "file not found", id="grid-file-missing"),
    P({"fault.file": "g.csv"}, {"g.csv": "x,y,z\n0,0,1\n1,0,1\n0,1,1\n"}, "fault.file", "depth_km",
      id="grid-file-no-depth"),
    P({"fault.file": "g.csv"}, {"g.csv": "x,y,depth_km\n0,0,1\n1,0,1\n"}, "fault.file", "at least 3",
      id="grid-file-too-few-points"),
    P({"fault.file": "g.csv"}, {"g.csv": "x,y,depth_km\n0,0,1\n1,0,x\n0,1,1\n"}, "fault.file", "line 3",
      id="grid-file-not-a-number"),
    P({"fault.file": "g.csv", "domain.origin": DELETE, "fault.outline": DELETE},
      {"g.csv": "lon,lat,depth_km\n135,33,1\n135.1,33,1\n135,33.1,2\n"}, "fault.file",
      "domain.origin is required", id="grid-lonlat-without-origin"),
    P({"fault.outline": [[0.0, 0.0], [1.0, 1.0]]}, {}, "fault.outline", "at least 3 points",
      id="grid-outline-two-points"),
    P({"fault.outline": [[0.0, 0.0], [1.0], [1.0, 1.0]]}, {}, "fault.outline", "pairs", id="grid-outline-shape"),
    P({"fault.outline": [[0.0, 0.0], [60.0, 0.0], [0.0, 10.0]]}, {}, "fault.outline",
      "strictly inside the domain", id="grid-outline-outside"),
    P({"fault.depth_range": [20.0, 2.0]}, {}, "fault.depth_range", "must be increasing",
      id="grid-depth-range-decreasing"),
    P({"fault.depth_range": [-1.0, 10.0]}, {}, "fault.depth_range", "must be >= 0", id="grid-depth-range-negative"),
    P({"fault.depth_range": [0.0, 30.0]}, {}, "fault.depth_range", "domain.depth", id="grid-depth-range-deep"),
    P({"fault.depth_range": DELETE}, {}, "fault.depth_range", "missing required key", id="grid-no-depth-range"),
    P({"fault.subfault_size": 0.0}, {}, "fault.subfault_size", "must be > 0", id="grid-subfault-size"),
    P({"fault.dip": 30.0}, {}, "fault.dip", 'not a key of a fault of type = "grid"', id="grid-rectangle-key"),
    P({"plate_layers[0].thickness": DELETE}, {}, "plate_layers[0].thickness", "missing required key",
      id="plate-thickness-missing"),
    P({"plate_layers[0].thickness": 0.0}, {}, "plate_layers[0].thickness", "must be > 0", id="plate-thickness-zero"),
    P({"plate_layers[1].vs": 6.0}, {}, "plate_layers[1]", "Poisson's ratio", id="plate-poisson"),
    P({"plate_layers[0].name": "upper"}, {}, "plate_layers[0].name", "used twice", id="plate-name-twice"),
    P({"variants": [{"name": "v", "changes": [{"layer": "oceanic_crust", "vp": 4.0}]}]}, {},
      "variants[0].changes[0]", "would have Poisson's ratio", id="variant-plate-unphysical"),
]


def mesh_via_cli(config: Path, out_dir: Path):
    """Run `crustgf mesh` in-process; return (exit code, stderr, output path)."""
    out_dir.mkdir(exist_ok=True)
    out = out_dir / "model.h5"
    result = CliRunner().invoke(main, ["mesh", str(config), "-o", str(out)])
    return result.exit_code, result.stderr, out


def assert_one_line_error(code, stderr, out, key, what):
    assert code != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert f"{key}: " in lines[0] and what in lines[0], lines[0]
    assert not out.exists() and list(out.parent.iterdir()) == []  # nothing written, not even a sidecar


def check_case(tmp_path, cfg, edits, files, key, what):
    for path, value in edits.items():
        edit(cfg, path, value)
    config = write_config(tmp_path / "cfg", cfg, files)
    code, stderr, out = mesh_via_cli(config, tmp_path / "out")
    assert_one_line_error(code, stderr, out, key, what)


@pytest.mark.parametrize("edits, files, key, what", CASES)
def test_bad_config_fails_with_one_line(tmp_path, edits, files, key, what):
    check_case(tmp_path, base_config(), edits, files, key, what)


@pytest.mark.parametrize("edits, files, key, what", GRID_CASES)
def test_bad_grid_config_fails_with_one_line(tmp_path, edits, files, key, what):
    check_case(tmp_path, grid_config(), edits, {"plane.csv": plane_grid_xy(), **files}, key, what)


def test_bad_values_give_exactly_their_problem(tmp_path):
    """The base configs are valid: a single bad value yields a single problem (no cascades)."""
    from crustgf.config.load import load_config
    from crustgf.core.errors import ConfigError

    load_config(write_config(tmp_path / "a", base_config()))
    load_config(write_config(tmp_path / "b", grid_config(), {"plane.csv": plane_grid_xy()}))
    cfg = base_config()
    edit(cfg, "layers[1].vs", -3.0)
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path / "c", cfg))
    assert info.value.problems == ["layers[1].vs: must be > 0, got -3.0"]


def run_real_cli(*args):
    return subprocess.run([sys.executable, "-m", "crustgf.cli.main", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_toml_syntax_error_through_a_subprocess(tmp_path):
    config = write_config(tmp_path, base_config())
    config.write_text(config.read_text().replace('name = "test"', 'name = "test'))  # unterminated string
    out = tmp_path / "out" / "model.h5"
    out.parent.mkdir()
    r = run_real_cli("mesh", config, "-o", out)
    assert_one_line_error(r.returncode, r.stderr, out, str(config), "TOML syntax error")
    assert "line 2" in r.stderr  # tomllib says where


def test_several_problems_through_a_subprocess(tmp_path):
    cfg = base_config()
    edit(cfg, "layers[1].vs", -3.0)
    edit(cfg, "fault.strike", "north")
    edit(cfg, "solver.backend", "gpu")
    out = tmp_path / "out" / "model.h5"
    out.parent.mkdir()
    r = run_real_cli("mesh", write_config(tmp_path / "cfg", cfg), "-o", out)
    for key, what in (("layers[1].vs", "must be > 0, got -3.0"), ("fault.strike", "must be a number"),
                      ("solver.backend", "one of auto")):
        assert_one_line_error(r.returncode, r.stderr, out, key, what)
    assert r.stderr.count(";") >= 2


def test_missing_config_file(tmp_path):
    code, stderr, out = mesh_via_cli(tmp_path / "absent.toml", tmp_path / "out")
    assert_one_line_error(code, stderr, out, str(tmp_path / "absent.toml"), "file not found")
