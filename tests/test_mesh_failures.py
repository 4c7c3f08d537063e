"""Mesher failures are user errors with a hint, never crashes: a dying gmsh process, a gmsh
exception, and a fault whose split into subfaults folds over (edges crossing in map view)."""

from __future__ import annotations

import faulthandler
import os
import signal

import gmsh
import numpy as np
import pytest
from mesh_cases import KM, cylinder_patches

from crustgf.core.errors import CrustgfError
from crustgf.mesh.gmsh_build import gmsh_errors, gmsh_session
from crustgf.mesh.isolate import call_isolated
from crustgf.mesh.patchcheck import check_edges_do_not_cross


def _work(x, step):
    step("geometry")
    step("volume mesh")
    return {"twice": 2 * x}


def _segfault(step):
    step("geometry")
    faulthandler.disable()  # pytest's traceback dump of the child would only be noise
    os.kill(os.getpid(), signal.SIGSEGV)


def _user_error(step):
    raise CrustgfError("fault: something the user can fix")


def test_isolated_call_returns_the_result_and_forwards_progress():
    seen = []
    assert call_isolated(_work, np.arange(3), step=seen.append)["twice"].tolist() == [0, 2, 4]
    assert seen == ["geometry", "volume mesh"]


def test_a_crash_in_the_child_is_a_user_error_naming_the_signal():
    seen = []
    with pytest.raises(CrustgfError, match=r"mesh: gmsh crashed \(killed by SIGSEGV\); .*size_fault"):
        call_isolated(_segfault, step=seen.append)
    assert seen == ["geometry"]


def test_a_user_error_in_the_child_comes_back_unchanged():
    with pytest.raises(CrustgfError, match="^fault: something the user can fix$"):
        call_isolated(_user_error)


def test_gmsh_exceptions_become_user_errors_and_other_errors_pass():
    with gmsh_session():
        with pytest.raises(CrustgfError, match="mesh: gmsh failed in the geometry stage .*fault.outline"):
            with gmsh_errors("geometry"):
                gmsh.model.occ.getBoundingBox(3, 12345)  # no such volume: gmsh raises
        with pytest.raises(ZeroDivisionError):  # a bug stays a bug
            with gmsh_errors("geometry"):
                raise ZeroDivisionError  # a bug inside the child


def test_crossing_patch_edges_are_reported_before_meshing():
    patches = cylinder_patches()  # 3 x 2 patches, down-dip edges at x = 15, 5, -5, -15 km
    check_edges_do_not_cross(patches)
    n_se = 3 * 3
    e = n_se + 1 * 2 + 0  # down-dip edge of column 1 (x = 5 km), top row
    bent = patches.edge_points[e].copy()
    bent[3:-3, 0] -= 12 * KM  # bulges past the next column's edge at x = -5 km
    patches.edge_points[e] = bent
    with pytest.raises(CrustgfError, match=f"fault: subfault edges {e} and {n_se + 2 * 2} cross near"):
        check_edges_do_not_cross(patches)
