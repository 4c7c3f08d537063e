"""A progress bar for long steps: counts and an ETA on a terminal, silent otherwise.

`Progress(total, ...)` draws a tqdm bar on stderr only when progress is wanted (not `--quiet`)
and stderr is a terminal, so logs and batch jobs stay clean. Messages that must always be seen
(failures, summaries) go through `Progress.write`, which prints above the bar without breaking it.
"""

from __future__ import annotations

import shutil
import sys


class Progress:
    """A bar over `total` units of which `initial` are already done (resumed work)."""

    def __init__(self, total: int, desc: str, enabled: bool = True, initial: int = 0, unit: str = "solve"):
        self.enabled = bool(enabled) and _stderr_is_terminal()
        self._bar = None
        if self.enabled:
            from tqdm import tqdm

            # a terminal that reports no width (some ptys) would get an empty bar: assume 80
            sized = shutil.get_terminal_size((0, 0)).columns >= 20
            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                             dynamic_ncols=sized, ncols=None if sized else 80,
                             nrows=None if sized else 24, smoothing=0.1)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def write(self, message: str) -> None:
        """Print one line on stderr (above the bar when there is one)."""
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
