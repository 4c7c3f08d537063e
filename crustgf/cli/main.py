"""The `crustgf` command line: thin wrappers that parse options and call the library.

Every user error (CrustgfError) becomes one line `Error: ...` and exit status 1; `--verbose`
shows the traceback too. Implementations are imported inside the commands so that `crustgf --help`
stays fast and a command only pays for what it uses.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from crustgf import __version__
from crustgf.config.schema import BACKENDS, METHODS
from crustgf.core.errors import CrustgfError
from crustgf.io.formats import FORMATS


class _Ctx:
    verbose = False
    quiet = False


def _fail(exc: BaseException) -> None:
    if _Ctx.verbose:
        traceback.print_exc()
    msg = str(exc).strip().replace("\n", "; ") or exc.__class__.__name__
    click.echo(f"Error: {msg}", err=True)
    sys.exit(1)


def _guard(fn):
    """Run a command body; turn user errors into one-line messages. Every command also takes
    --verbose/--quiet after its name (`crustgf solve M -o G --quiet`), as well as before it."""

    def wrapper(*args, verbose_here=False, quiet_here=False, **kwargs):
        _Ctx.verbose = _Ctx.verbose or verbose_here
        _Ctx.quiet = _Ctx.quiet or quiet_here
        try:
            return fn(*args, **kwargs)
        except CrustgfError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:  # disk full, read-only, a file that vanished: one line, never a traceback
            from crustgf.core.atomic import os_error_message

            _fail(CrustgfError(os_error_message(getattr(exc, "filename", "") or "", exc)))

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper = click.option("--verbose", "-v", "verbose_here", is_flag=True,
                           help="Show more detail (tracebacks on errors).")(wrapper)
    return click.option("--quiet", "-q", "quiet_here", is_flag=True, help="No progress bars.")(wrapper)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crustgf")
@click.option("--verbose", "-v", is_flag=True, help="Show more detail (tracebacks on errors).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def main(verbose: bool, quiet: bool) -> None:
    """Crustal-deformation Green's functions on layered 3D finite-element models."""
    _Ctx.verbose = verbose
    _Ctx.quiet = quiet


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Model file to write (HDF5); an Xdmf sidecar is written beside it.")
@click.option("--force", is_flag=True, help="Mesh even when the size estimate is over the limit.")
@_guard
def mesh(config: Path, output: Path, force: bool) -> None:
    """Build the layered FE model with its conforming fault from CONFIG (TOML)."""
    from crustgf.greens.pipeline import mesh_command

    mesh_command(config, output, quiet=_Ctx.quiet, force=force)


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@_guard
def info(model: Path) -> None:
    """Print a summary of a model file or a Green's-function file."""
    from crustgf.cli.info import summarize

    click.echo(summarize(model))


def _solve_options(f):
    """Options of solve/run; each overrides the config's [solver] table (defaults in brackets)."""
    f = click.option("--backend", type=click.Choice(BACKENDS), default=None,
                     help="auto: cuda when a GPU is usable, else cpu. [config, else auto]")(f)
    f = click.option("--batch", type=int, default=None, help="Right-hand sides solved together. [config, else 16]")(f)
    f = click.option("--rtol", type=float, default=None, help="Relative residual target. [config, else 1e-8]")(f)
    f = click.option("--method", type=click.Choice(METHODS), default=None,
                     help="CPU method; auto picks by size and memory. [config, else auto]")(f)
    f = click.option("--workers", type=int, default=None,
                     help="Local worker processes (Dask LocalCluster). [none: in this process]")(f)
    f = click.option("--scheduler", type=str, default=None,
                     help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.1:8786.")(f)
    f = click.option("--max-iterations", type=int, default=None,
                     help="Iteration cap of iterative methods. [config, else 5000]")(f)
    f = click.option("--traction/--no-traction", default=None,
                     help="Also fault traction Green's functions (/greens_functions/traction). [config, else no]")(f)
    f = click.option("--sensitivity", type=str, default=None,
                     help='Also d(GF)/d(mu, lambda) of these layers: "all" or "name1,name2". [config, else none]')(f)
    return f


def _collect(**kw):
    return {k: v for k, v in kw.items() if v is not None}


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Green's-function file (HDF5); re-running resumes it.")
@_solve_options
@_guard
def solve(model: Path, output: Path, **opts) -> None:
    """Solve unit slip on every subfault of MODEL; write the Green's functions."""
    from crustgf.greens.pipeline import solve_command

    sys.exit(solve_command(model, output, _collect(**opts), quiet=_Ctx.quiet))


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Green's-function file; the model goes beside it as NAME.model.h5.")
@_solve_options
@click.option("--force", is_flag=True, help="Mesh even when the size estimate is over the limit.")
@_guard
def run(config: Path, output: Path, force: bool, **opts) -> None:
    """Mesh CONFIG and solve it in one go."""
    from crustgf.greens.pipeline import run_command

    sys.exit(run_command(config, output, _collect(**opts), quiet=_Ctx.quiet, force=force))


@main.command()
@click.argument("gf", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(list(FORMATS)),
              help="npz (every array), csv (long table), matrix (G as .npz or .csv), csi or altar (a folder).")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path))
@click.option("--variant", default=None, help="Structure variant to export (default: reference).")
@click.option("--allow-missing", is_flag=True, help="Export even if some solves are unfinished (NaN).")
@_guard
def export(gf: Path, fmt: str, output: Path, variant: str | None, allow_missing: bool) -> None:
    """Export Green's functions: npz, csv, an inversion-ready matrix, or the inputs of CSI or AlTar."""
    from crustgf.io.export import export_greens_functions

    export_greens_functions(gf, fmt, output, variant=variant, allow_missing=allow_missing)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path), help="PNG to write.")
@click.option("--subfault", type=int, default=None, help="GF map: the subfault to show (0-based).")
@click.option("--component", type=click.Choice(["strike", "dip"]), default="dip", show_default=True,
              help="GF map: unit slip component.")
@click.option("--variant", default=None, help="GF map: structure variant (default: reference).")
@click.option("--layout", is_flag=True, help="MODEL file: subfaults coloured by depth, stations.")
@click.option("--section", default=None,
              help="MODEL file: vertical section 'lon1,lat1,lon2,lat2' or 'xy:x1,y1,x2,y2' (km).")
@click.option("--depth", "depth_km", type=float, default=100.0, show_default=True,
              help="Section: deepest depth shown (km).")
@click.option("--stations", default=None,
              help="Viscoelastic GF file, with --subfault: time series at these stations ('KMA01,L010').")
@click.option("--times", default=None,
              help="Viscoelastic GF file, with --subfault: maps at these output times in years ('0,10,50').")
@click.option("--change", is_flag=True, help="With --times: show u(t) - u(0) (the viscous part).")
@_guard
def plot(file: Path, output: Path, subfault, component, variant, layout, section, depth_km,
         stations, times, change) -> None:
    """PNG plots: a GF map (GF.h5 --subfault N), a model's --layout or a --section."""
    from crustgf.plot import figures as plots

    if stations is not None or times is not None:
        from crustgf.plot.history import history_plot_command

        history_plot_command(file, output, subfault, component, stations, times, change)
        if not _Ctx.quiet:
            click.echo(f"wrote {output}")
        return

    chosen = [n for n, on in (("--subfault", subfault is not None), ("--layout", layout),
                              ("--section", section is not None)) if on]
    if len(chosen) != 1:
        raise CrustgfError("plot: give exactly one of --subfault N (GF file), --layout or --section "
                           f"(model file); got {', '.join(chosen) or 'none'}")
    from crustgf.core.atomic import check_output_folder, command_scope

    check_output_folder(output)
    with command_scope(inputs=[file], outputs=[output]):
        _plot(plots, file, output, subfault, component, variant, layout, section, depth_km)
    if not _Ctx.quiet:
        click.echo(f"wrote {output}")


def _plot(plots, file, output, subfault, component, variant, layout, section, depth_km) -> None:
    if layout:
        plots.plot_layout(file, output)
    elif section is not None:
        plots.plot_section(file, section, output, depth_max_km=depth_km)
    else:
        plots.plot_greens_function(file, subfault, component, output, variant=variant)


@main.command()
@click.argument("gf", type=click.Path(path_type=Path))
@click.option("--slip", type=click.Path(path_type=Path), default=None,
              help="CSV: subfault, strike_slip, dip_slip (m) or subfault, slip (m), rake (degrees).")
@click.option("--slip-model", type=click.Path(path_type=Path), default=None,
              help="Rectangular lon/lat slip model (e.g. crustgf/data/slip_1946_nankai_baba2002.csv).")
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Data CSV: station, x, y (km), east, north, up, sigma (m).")
@click.option("--noise-sigma-mm", type=float, default=0.0, show_default=True, help="Gaussian noise added.")
@click.option("--sigma-mm", type=float, default=None, help="Sigma written. [the noise, or 1 mm]")
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option("--variant", default=None, help="Structure variant (default: reference).")
@_guard
def synth(gf: Path, slip, slip_model, output: Path, noise_sigma_mm, sigma_mm, seed, variant) -> None:
    """Synthetic station displacements of a slip distribution (d = G m, + noise)."""
    from crustgf.inversion.synth import synth_command

    synth_command(gf, output, slip=slip, slip_model=slip_model, noise_sigma_mm=noise_sigma_mm,
                  sigma_mm=sigma_mm, seed=seed, variant=variant)


@main.command()
@click.argument("gf", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Result base name: RESULT.npz, .csv, _abic.csv, _residuals.csv, .png.")
@click.option("--variant", default=None, help="Structure variant (default: reference).")
@click.option("--no-plot", is_flag=True, help="Skip the PNG slip map.")
@click.option("--edges", type=click.Choice(["free", "zero"]), default="free", show_default=True,
              help="Smoothing at the fault's outline: free, or slip pulled to zero there.")
@click.option("--structure-uncertainty", default=None,
              help="LAYER=STD,...: relative std of each layer's mu; inverts with Cd + Cp (needs the "
                   "file's sensitivity kernels).")
@click.option("--structure-scaling", type=click.Choice(["mu", "moduli"]), default="mu", show_default=True,
              help="Structure uncertainty of mu alone (lambda held) or of mu and lambda together.")
@_guard
def invert(gf: Path, data: Path, output: Path, variant, no_plot, edges, structure_uncertainty,
           structure_scaling) -> None:
    """Smoothed least-squares slip from station displacements; weight chosen by ABIC.

    DATA is a CSV (as `crustgf synth` writes): columns station, east, north, up (m) and sigma (m),
    or sigma_east, sigma_north, sigma_up; optional x, y (km) are ignored; lines starting with '#'
    are comments. Stations are matched by name with the GF file's; a blank value leaves that
    component out."""
    from crustgf.inversion.invert import invert_command

    invert_command(gf, data, output, variant=variant, plot=not no_plot, edges=edges,
                   structure_uncertainty=structure_uncertainty, structure_scaling=structure_scaling)


@main.command()
@click.argument("gf", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--slip-model", type=click.Path(path_type=Path), default=None,
              help="Slip model (default: the 1946 Nankai model shipped in data/).")
@click.option("--noise-sigma-mm", type=float, default=0.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--edges", type=click.Choice(["free", "zero"]), default="free", show_default=True,
              help="Smoothing at the fault's outline: free, or slip pulled to zero there.")
@_guard
def ensemble(gf: Path, out: Path, slip_model, noise_sigma_mm, seed, edges) -> None:
    """Synthetic test: data from the reference structure, inverted with every variant's GFs."""
    from crustgf.inversion.ensemble import run_ensemble

    run_ensemble(gf, out, slip_model=slip_model, noise_sigma_mm=noise_sigma_mm, seed=seed, edges=edges)


@main.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("crustgf-demo"), show_default=True,
              help="Output folder (created; re-running resumes).")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="Config to run instead of the shipped coarse Nankai model.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Solver backend (default: the config's, else auto).")
@_guard
def demo(out: Path, config, backend) -> None:
    """The Nankai Trough demo end to end: mesh, solve, exports, plots (runs from an installed package)."""
    from crustgf.cli.demo import DEFAULT_CONFIG, run_demo

    run_demo(out, config or DEFAULT_CONFIG, {} if backend is None else {"backend": backend}, quiet=_Ctx.quiet)


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Folder holding donet_stations.csv (default: the package's data folder).")
@click.option("--spacing", type=float, default=None, help="Land grid spacing in degrees (default 0.25).")
@_guard
def stationsets(data_dir, spacing) -> None:
    """Regenerate the shipped Nankai station sets (DONET + a synthetic land GNSS grid; needs the plot extra)."""
    from crustgf.data.stationsets import DATA_DIR, DEFAULT_SPACING, write_station_sets

    for path in write_station_sets(data_dir or DATA_DIR, spacing or DEFAULT_SPACING):
        click.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
