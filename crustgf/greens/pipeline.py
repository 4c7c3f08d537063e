"""The commands' work, in library form: config -> model file -> Green's-function file."""

from __future__ import annotations

from pathlib import Path

import click


def mesh_command(config_path: Path, output: Path, quiet: bool = False) -> None:
    """Validate the config, build the model and write it atomically (with its Xdmf sidecar)."""
    from crustgf.config.load import load_config

    cfg = load_config(config_path)  # first: config errors are fast and need nothing else

    from crustgf.cli.info import model_summary
    from crustgf.mesh import build_model
    from crustgf.io.modelfile import write_model

    model = build_model(cfg, progress=not quiet)
    write_model(model, output)
    if not quiet:
        click.echo(model_summary(model, output))


def solve_command(model_path: Path, output: Path, options: dict, quiet: bool = False) -> int:
    """Solve every missing (subfault, slip component); return the exit status."""
    from crustgf.greens.run import solve_greens_functions

    return solve_greens_functions(model_path, output, options, progress=not quiet)


def model_path_for(gf_output: Path) -> Path:
    """Where `crustgf run` keeps the model: beside the GF file, NAME.model.h5."""
    gf_output = Path(gf_output)
    stem = gf_output.name[: -len(gf_output.suffix)] if gf_output.suffix else gf_output.name
    return gf_output.with_name(stem + ".model.h5")


def run_command(config_path: Path, output: Path, options: dict, quiet: bool = False) -> int:
    """Mesh (unless the model beside the output was built from the same config text) and solve."""
    from crustgf.config.load import load_config
    from crustgf.io.modelfile import read_config_text

    cfg = load_config(config_path)
    model_path = model_path_for(output)
    if not (model_path.exists() and read_config_text(model_path) == cfg.text):
        mesh_command(config_path, model_path, quiet=quiet)
    elif not quiet:
        click.echo(f"model {model_path} is up to date")
    return solve_command(model_path, output, options, quiet=quiet)
