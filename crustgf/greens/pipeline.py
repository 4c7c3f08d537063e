"""The commands' work, in library form: config -> model file -> Green's-function file.

Every command declares what it reads and what it writes before it starts (formats/atomic.py), so
no output lands on an input or on another output, and checks its options and output folders
before any mesh is made or any file written.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crustgf.core.atomic import check_output_folder, declare_inputs, declare_outputs, guarded
from crustgf.core.errors import CrustgfError

INPUTS_ATTR = "input_files"  # model /attrs: JSON {resolved path: sha256} of the files the config names


def xdmf_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".xdmf")


def input_digest(cfg) -> str:
    """JSON {path: sha256} of every file the config names (station lists, fault grid)."""
    from crustgf.io.modelfile import file_sha256

    return json.dumps({str(p): file_sha256(p) for p in cfg.files}, sort_keys=True)


def _load_config_declared(config_path: Path):
    from crustgf.config.load import load_config

    declare_inputs(config_path)
    cfg = load_config(config_path)  # first: config errors are fast and need nothing else
    for p in cfg.files:
        declare_inputs(p)
    return cfg


def _declare_model_output(output: Path, option: str = "-o") -> None:
    output = Path(output)
    if output.suffix.lower() == ".xdmf":
        raise CrustgfError(f"{option} {output}: the model file is HDF5 and gets an .xdmf sidecar of the "
                           "same name; give a name ending in .h5")
    check_output_folder(output, option)
    declare_outputs(output, xdmf_path(output), option=option)


@guarded
def mesh_command(config_path: Path, output: Path, quiet: bool = False, force: bool = False) -> None:
    """Validate the config and the output, estimate the size, build the model and write it
    atomically (with its Xdmf sidecar)."""
    cfg = _load_config_declared(config_path)
    _declare_model_output(output)

    from crustgf.mesh.estimate import check_mesh_size

    check_mesh_size(cfg, force=force)
    for w in cfg.warnings:  # after the checks that end the command: an error stays one line
        click.echo(f"Warning: {w}", err=True)

    from crustgf.cli.info import model_summary
    from crustgf.io.modelfile import write_model
    from crustgf.mesh import build_model

    digest = input_digest(cfg)
    model = build_model(cfg, progress=not quiet)
    if input_digest(cfg) != digest:
        raise CrustgfError(f"{config_path}: a file it names changed while meshing; run the command again")
    model.attrs[INPUTS_ATTR] = digest
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


def why_stale(model_path: Path, cfg) -> str | None:
    """None when the model file was built from this config text and these input files, else why not."""
    from crustgf.io.modelfile import read_model_attrs

    if not model_path.exists():
        return "no model yet"
    config_text, attrs = read_model_attrs(model_path)
    if config_text != cfg.text:
        return f"{cfg.path} changed"
    if INPUTS_ATTR not in attrs:
        return "the model does not record its input files (built by an older crustgf)" if cfg.files else None
    try:
        stored = json.loads(attrs[INPUTS_ATTR])
    except (TypeError, ValueError):
        stored = None
    if not isinstance(stored, dict):
        return "the model's record of its input files is unreadable"
    current = json.loads(input_digest(cfg))
    changed = sorted(set(stored) ^ set(current) | {p for p in current if stored.get(p) != current[p]})
    if changed:
        return "changed: " + ", ".join(changed)
    return None


@guarded
def run_command(config_path: Path, output: Path, options: dict, quiet: bool = False,
                force: bool = False) -> int:
    """Mesh (unless the model beside the output was built from the same config text and the same
    input files) and solve. Options, output folder and the model's freshness are checked first."""
    from crustgf.greens.journal import journal_path
    from crustgf.greens.options import check_solve_options

    output = Path(output)
    cfg = _load_config_declared(config_path)
    model_path = model_path_for(output)
    check_output_folder(output)
    declare_outputs(output, model_path, xdmf_path(model_path))
    check_solve_options(cfg.text, options)  # before meshing: a bad option costs nothing
    stale = why_stale(model_path, cfg)
    if stale is not None:
        if model_path.exists() and (output.exists() or journal_path(output).exists()):
            raise CrustgfError(
                f"-o {output}: holds Green's functions solved on {model_path}, which is out of date "
                f"({stale}); re-meshing would leave them without their model: move {output} (and "
                f"{journal_path(output).name}) away or use another -o")
        mesh_command(config_path, model_path, quiet=quiet, force=force)
    elif not quiet:
        click.echo(f"model {model_path} is up to date")
    return solve_command(model_path, output, options, quiet=quiet)
