"""Stage-by-stage progress of meshing on stderr (a tqdm bar), silent when disabled."""

from __future__ import annotations

import sys

from tqdm import tqdm

STAGES = ["geometry", "surface mesh", "volume mesh", "elements", "node sets"]


class Steps:
    """Context manager; calling it with a stage name advances the bar to that stage."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        if self.enabled:
            self.bar = tqdm(total=len(STAGES), desc="mesh", unit="step", file=sys.stderr, leave=False, disable=None,
                            bar_format="{desc} {n_fmt}/{total_fmt} [{elapsed}]")
        return self

    def __call__(self, name: str) -> None:
        if self.bar is not None:
            if name in STAGES and STAGES.index(name) > 0:
                self.bar.update(1)
            self.bar.set_description(f"mesh: {name}")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
        return False
