"""Long-format CSV export: one row per (station, component, subfault, slip component).

Columns: station, component (east|north|up), subfault (0-based index into /subfaults),
slip (strike|dip), value (metres of displacement per metre of slip). Rows are in the order of the
displacement array (station slowest, slip component fastest). Provenance lines start with '#'.
"""

from __future__ import annotations

import csv

from crustgf.core.atomic import atomic_open
from crustgf.io.formats.provenance import provenance_lines
from crustgf.io.gfread import COMPONENTS, SLIP_COMPONENTS, GreensFunctions


def write_csv(gf: GreensFunctions, out) -> None:
    d = gf.displacement
    ns, _, nf, _ = d.shape
    with atomic_open(out, "w", newline="") as fh:
        for line in provenance_lines(gf, "crustgf Green's functions, long format (value in m per m of slip)"):
            fh.write(line + "\n")
        fh.write("station,component,subfault,slip,value\n")
        sub_slip = [f"{j},{SLIP_COMPONENTS[s]}" for j in range(nf) for s in range(2)]
        for i, name in enumerate(gf.station_names):
            # the name quoted as CSV needs (a station "S,99" stays one field); the rest never needs it
            prefix = _quoted(name) + ","
            for c, comp in enumerate(COMPONENTS):
                values = d[i, c].reshape(-1)  # (subfault, slip) in C order, matches sub_slip
                fh.write("".join(f"{prefix}{comp},{ss},{v:.10g}\n" for ss, v in zip(sub_slip, values)))


def _quoted(field: str) -> str:
    """One CSV field as the csv module writes it (quoted when it holds a comma, quote or newline)."""
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([field])
    return buf.getvalue()
