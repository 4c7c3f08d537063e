"""`crustgf invert`: station displacements -> slip on the subfaults, smoothed, weight chosen by ABIC.

Unknowns: strike-slip and dip-slip of every subfault (m, either sign; SPEC 4: + left-lateral,
+ reverse), in the column order of the GF matrix (subfault j: columns 2j, 2j + 1). Data: the
observed components of the stations in DATA.csv (crustgf.inversion.synth format), matched to the GF file's
stations by name, each divided by its sigma. Smoothing: Laplacian over neighbouring subfaults
(crustgf.inversion.smoothing). Weight: ABIC (crustgf.inversion.abic).

Outputs for `-o RESULT` (a suffix .npz/.csv/.png is dropped):
    RESULT.npz            slip, slip_std, covariance, alpha2, sigma2, abic, abic_grid_alpha2,
                          abic_grid, at_edge, stations, observed, predicted, sigma
    RESULT.csv            per subfault: subfault, x_km, y_km, depth_km, strike_slip, dip_slip,
                          slip, rake, std_strike_slip, std_dip_slip (m, degrees)
    RESULT_abic.csv       alpha2, abic (the grid; the chosen weight is in the header)
    RESULT_residuals.csv  station, component, observed, predicted, residual, sigma (m)
    RESULT.png            slip map (when matplotlib is installed)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.inversion.abic import AbicResult, abic_inversion
from crustgf.inversion.slipmodels import rake_slip
from crustgf.inversion.smoothing import slip_smoothing
from crustgf.inversion.structure_cov import ITERATIONS as CP_ITERATIONS
from crustgf.inversion.structure_cov import load_kernels, prediction_covariance
from crustgf.inversion.synth import StationData, read_data_csv
from crustgf.io.gfread import COMPONENTS, GreensFunctions, load_greens_functions


@dataclass
class InversionResult:
    slip: np.ndarray  # (n_subfaults, 2) m
    slip_std: np.ndarray  # (n_subfaults, 2) m, posterior standard deviation
    abic: AbicResult
    stations: list[str]  # the data's stations, in data order
    observed: np.ndarray  # (n, 3) m, NaN where not observed
    predicted: np.ndarray  # (n, 3) m
    sigma: np.ndarray  # (n, 3) m


def station_rows(gf: GreensFunctions, data: StationData, data_path="data") -> np.ndarray:
    """Index into the GF file's stations of every data station; unknown names are an error."""
    where = {name: i for i, name in enumerate(gf.station_names)}
    missing = [n for n in data.names if n not in where]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise CrustgfError(f"{data_path}: {len(missing)} stations are not in {gf.path}: {shown}")
    return np.array([where[n] for n in data.names], dtype=np.int64)


def invert_slip(gf: GreensFunctions, data: StationData, data_path="data", edges: str = "free",
                prediction_covariance=None, **abic_options) -> InversionResult:
    """prediction_covariance: Cp (n_obs, n_obs) over the observed components (data order), added
    to the data covariance (structure_cov.py); None: diagonal data covariance from the sigmas."""
    rows = station_rows(gf, data, data_path)
    disp = gf.displacement[rows]  # (n, 3, nsf, 2)
    observed = np.isfinite(data.values)
    if not observed.any():
        raise CrustgfError(f"{data_path}: no observed displacement")
    G = disp[observed] / data.sigma[observed][:, None, None]  # whitened rows (k, nsf, 2)
    G = G.reshape(len(G), -1)
    d = data.values[observed] / data.sigma[observed]
    if prediction_covariance is not None:  # whiten with Cd + Cp: L L^T = I + Cp / (s_i s_j)
        from scipy.linalg import cholesky, solve_triangular

        s = data.sigma[observed]
        L = cholesky(np.eye(len(d)) + prediction_covariance / np.outer(s, s), lower=True)
        G, d = solve_triangular(L, G, lower=True), solve_triangular(L, d, lower=True)
    B, rank = slip_smoothing(gf.subfaults, edges)
    res = abic_inversion(G, d, B, rank, **abic_options)
    slip = res.m.reshape(-1, 2)
    std = np.sqrt(np.clip(np.diag(res.covariance), 0.0, None)).reshape(-1, 2)
    predicted = np.einsum("icjs,js->ic", disp, slip)
    return InversionResult(slip=slip, slip_std=std, abic=res, stations=list(data.names),
                           observed=data.values, predicted=predicted, sigma=data.sigma)


def result_base(output) -> Path:
    output = Path(output)
    return output.with_suffix("") if output.suffix.lower() in (".npz", ".csv", ".png") else output


def _csv_lines_subfaults(gf: GreensFunctions, r: InversionResult):
    c = gf.subfaults.centroid
    mag, rake = rake_slip(r.slip[:, 0], r.slip[:, 1])
    yield "subfault,x_km,y_km,depth_km,strike_slip,dip_slip,slip,rake,std_strike_slip,std_dip_slip\n"
    for j in range(gf.n_subfaults):
        yield (f"{j},{c[j, 0] / 1e3:.4f},{c[j, 1] / 1e3:.4f},{-c[j, 2] / 1e3:.4f},{r.slip[j, 0]:.6e},"
               f"{r.slip[j, 1]:.6e},{mag[j]:.6e},{rake[j]:.3f},{r.slip_std[j, 0]:.6e},{r.slip_std[j, 1]:.6e}\n")


def _csv_lines_residuals(r: InversionResult):
    yield "station,component,observed,predicted,residual,sigma\n"
    for name, obs, pred, sig in zip(r.stations, r.observed, r.predicted, r.sigma):
        for c, comp in enumerate(COMPONENTS):
            if np.isfinite(obs[c]):
                yield _csv_line([name, comp, f"{obs[c]:.9e}", f"{pred[c]:.9e}", f"{obs[c] - pred[c]:.9e}",
                                 f"{sig[c]:.6e}"])


def _csv_line(fields) -> str:
    """One CSV line, fields quoted where needed (a station name with a comma stays one field)."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def write_results(gf: GreensFunctions, r: InversionResult, output, header=()) -> list[Path]:
    from crustgf.core.atomic import atomic_open, save_npz

    base = result_base(output)
    a = r.abic
    notes = list(header) + [f"alpha2 = {a.alpha2:.6e} (ABIC {a.abic:.6f}; sigma2 scale {a.sigma2:.4g}"
                            + ("; minimum on the grid edge" if a.at_edge else "") + ")"]
    paths = [base.with_name(base.name + sfx) for sfx in (".npz", ".csv", "_abic.csv", "_residuals.csv")]
    save_npz(paths[0], {
        "slip": r.slip, "slip_std": r.slip_std, "covariance": a.covariance, "alpha2": a.alpha2,
        "sigma2": a.sigma2, "abic": a.abic, "abic_grid_alpha2": a.grid_alpha2, "abic_grid": a.grid_abic,
        "at_edge": a.at_edge, "stations": np.array(r.stations, dtype=str), "observed": r.observed,
        "predicted": r.predicted, "sigma": r.sigma, "variant": np.array(gf.variant or ""),
    })
    tables = [(paths[1], _csv_lines_subfaults(gf, r)),
              (paths[2], (f"{x:.6e},{v:.8f}\n" for x, v in zip(a.grid_alpha2, a.grid_abic))),
              (paths[3], _csv_lines_residuals(r))]
    for k, (path, lines) in enumerate(tables):
        with atomic_open(path, "w", newline="") as fh:
            fh.writelines(f"# {n}\n" for n in notes)
            if k == 1:
                fh.write("alpha2,abic\n")
            fh.writelines(lines)
    return paths


def invert_command(gf_path, data_path, output, variant: str | None = None, plot: bool = True,
                   edges: str = "free", structure_uncertainty: str | None = None,
                   structure_scaling: str = "mu") -> InversionResult:
    """`crustgf invert`: read, invert, write every output; returns the result."""
    from crustgf.core.atomic import check_output_folder, command_scope

    base = result_base(output)
    outputs = [base.with_name(base.name + sfx) for sfx in (".npz", ".csv", "_abic.csv", "_residuals.csv", ".png")]
    check_output_folder(outputs[0])
    with command_scope(inputs=[gf_path, data_path], outputs=outputs):
        return _invert(gf_path, data_path, output, variant, plot, edges, structure_uncertainty, structure_scaling)


def _invert(gf_path, data_path, output, variant, plot, edges, structure_uncertainty,
            structure_scaling) -> InversionResult:
    gf = load_greens_functions(gf_path, variant=variant)
    gf.require_complete("invert with")
    header = [f"crustgf invert of {data_path} with {gf_path} "
              f"({'variant ' + variant if variant else 'reference structure'}), edges {edges}"]
    if structure_uncertainty is not None:
        from crustgf.inversion.structure_cov import load_kernels, parse_uncertainty

        uncertainty = parse_uncertainty(structure_uncertainty)
        load_kernels(gf, uncertainty, structure_scaling)  # bad layers / missing kernels: before any work
        data = read_data_csv(data_path)
        result, _ = invert_with_structure_uncertainty(gf, data, uncertainty, data_path, structure_scaling,
                                                      edges=edges)
        scaled = "mu" if structure_scaling == "mu" else "mu and lambda together"
        header.append(f"data covariance Cd + Cp, structure uncertainty {structure_uncertainty} "
                      f"(relative std of {scaled})")
    else:
        data = read_data_csv(data_path)
        result = invert_slip(gf, data, data_path, edges=edges)
    paths = write_results(gf, result, output, header)
    if plot:
        try:
            from crustgf.plot.slipmap import save_slip_map
        except ImportError:  # matplotlib is optional
            save_slip_map = None
        if save_slip_map is not None:
            base = result_base(output)
            save_slip_map(base.with_name(base.name + ".png"), gf, result.slip,
                          title=f"slip ({variant or 'reference'}), alpha^2 = {result.abic.alpha2:.3g}",
                          stations=gf.station_positions[station_rows(gf, data)])
    import click

    click.echo(f"alpha^2 = {result.abic.alpha2:.4g}"
               + (" (ABIC minimum on the grid edge: no interior minimum)" if result.abic.at_edge else "")
               + f"; wrote {', '.join(str(p) for p in paths)}", err=True)
    return result


def invert_with_structure_uncertainty(gf, data, uncertainty: dict, data_path="data", scaling: str = "mu",
                                      iterations: int | None = None, **options):
    """Slip inverted with Cd + Cp(m) (crustgf.inversion.structure_cov); returns (InversionResult, Cp of the
    last pass). Cp depends on the slip: built from the estimate without it, then rebuilt `iterations` times."""
    iterations = CP_ITERATIONS if iterations is None else iterations
    kernels = load_kernels(gf, uncertainty, scaling)
    rows = station_rows(gf, data, data_path)
    observed = np.isfinite(data.values)
    result = invert_slip(gf, data, data_path, **options)
    cp = None
    for _ in range(iterations):
        cp = prediction_covariance(kernels, uncertainty, result.slip, rows, observed)
        result = invert_slip(gf, data, data_path, prediction_covariance=cp, **options)
    return result, cp
