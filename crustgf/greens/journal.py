"""The journal: every finished batch is on disk the moment it is done.

`OUT.h5.journal/` beside the Green's-function file holds one small .npz per finished batch
(structure, job ids, displacement, residual, iterations, converged, model_sha256), named by a
sequence number. Each entry is written to a temporary name, fsynced, and renamed into place
(os.replace is atomic), then the folder is fsynced: a process killed at any moment leaves only
whole entries (and maybe a stray *.tmp, which is ignored and removed). The HDF5 file itself is
only replaced atomically from memory; entries it already contains are then pruned, and the
folder is removed when the solve finishes. A re-run merges file + journal (see solve.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from crustgf.core.atomic import fsync_dir
from crustgf.core.errors import CrustgfError
from crustgf.greens.dispatch.tasks import BatchResult

SUFFIX = ".journal"


def journal_path(out_path: Path) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + SUFFIX)


class Journal:
    def __init__(self, folder: Path, model_sha256: str):
        self.folder = Path(folder)
        self.model_sha256 = model_sha256
        self._next_seq = 1 + max((seq for seq, _ in self._entries()), default=0)
        self.damaged: list[tuple[Path, str]] = []  # entries read() could not use (and removed)

    def append(self, result: BatchResult) -> int:
        """Write one batch durably; return its sequence number."""
        self.folder.mkdir(parents=True, exist_ok=True)
        seq = self._next_seq
        self._next_seq += 1
        final = self.folder / f"{seq:09d}.npz"
        tmp = self.folder / f"{seq:09d}.npz.tmp"
        with open(tmp, "wb") as fh:
            extra = {} if result.history is None else {"history": result.history}
            np.savez(fh, structure=np.int64(result.structure), jobs=result.jobs,
                     displacement=result.displacement, residual=result.residual,
                     iterations=result.iterations, converged=result.converged,
                     model_sha256=np.str_(self.model_sha256), **_extra_arrays(result), **extra)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_dir(self.folder)
        return seq

    def read(self) -> list[tuple[int, BatchResult]]:
        """All whole entries in sequence order. Entries from another model are refused; a damaged
        entry (bit rot, a disk that lied about fsync) is removed and listed in `damaged`: its
        solves are simply missing, so the run does them again."""
        out = []
        for seq, path in self._entries():
            try:
                with np.load(path, allow_pickle=False) as z:
                    sha = str(z["model_sha256"])
                    if sha != self.model_sha256:
                        raise CrustgfError(
                            f"{self.folder}: journal of a solve on a different model (model_sha256 "
                            f"{sha[:12]}..., this model {self.model_sha256[:12]}...); delete it or use another -o")
                    result = _checked(BatchResult(
                        structure=int(z["structure"]), jobs=z["jobs"], displacement=z["displacement"],
                        residual=z["residual"], iterations=z["iterations"], converged=z["converged"],
                        extras=_read_extras(z), history=z["history"] if "history" in z.files else None))
            except CrustgfError:
                raise
            except Exception as exc:  # zip/npy/CRC errors of every kind: the entry is unusable
                self.damaged.append((path, " ".join(f"{type(exc).__name__}: {exc}".split())[:120]))
                path.unlink(missing_ok=True)
                continue
            out.append((seq, result))
        return out

    def prune(self, upto_seq: int) -> None:
        """Remove entries with sequence number <= upto_seq (they are in the HDF5 file now)."""
        for seq, path in self._entries():
            if seq <= upto_seq:
                path.unlink(missing_ok=True)
        for stray in self.folder.glob("*.tmp") if self.folder.is_dir() else ():
            stray.unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _entries(self) -> list[tuple[int, Path]]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("*.npz"):
            try:
                found.append((int(path.stem), path))
            except ValueError:
                continue
        return sorted(found)


def _checked(r: BatchResult) -> BatchResult:
    """A batch whose arrays agree with each other (else ValueError: a damaged entry)."""
    k = len(r.jobs)
    disp = np.asarray(r.displacement)
    ok = np.asarray(r.jobs).shape == (k, 2) and disp.ndim == 3 and disp.shape[2] == k
    if not (ok and len(r.residual) == len(r.iterations) == len(r.converged) == k):
        raise ValueError("arrays of inconsistent shapes")
    return r


def _extra_arrays(result: BatchResult) -> dict:
    """Extras (traction, sensitivities) as npz members extra_0, ... with their names in extra_names."""
    extras = getattr(result, "extras", None) or {}
    if not extras:
        return {}
    out = {"extra_names": np.array(list(extras), dtype=str)}
    out.update({f"extra_{i}": v for i, v in enumerate(extras.values())})
    return out


def _read_extras(z) -> dict:
    if "extra_names" not in z:
        return {}
    return {str(name): z[f"extra_{i}"] for i, name in enumerate(z["extra_names"])}
