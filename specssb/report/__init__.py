"""The report stage: sessions, cycler data, the durable result store, tracking and the report.

DESIGN §7: ``cli → report → fitting → parsers → spectrum, errors``; nothing here is imported by
the layers below.

==================  =====================================================================
module              what it does
==================  =====================================================================
``session``         a folder (and its ``session.toml``) into analyses, with the reasons
``echem``           cycler files into one table (BDF names, UTC), cycles, capacities, SoC;
                    spectra joined to the record
``store``           every fitted quantity of every session run, Parquet + DuckDB
``tracking``        cycles for every row, species versus cycle, trends, capacity
``render``          the self-contained HTML report (``figures``, ``templates/``)
==================  =====================================================================
"""

from specssb.report.echem import cycle_summary, join_spectra, read_cycler_table
from specssb.report.render import render_report
from specssb.report.session import Session
from specssb.report.store import Store, default_store
from specssb.report.tracking import assign_cycles, capacity_correlation, species_vs_cycle, trends

__all__ = [
    "Session", "Store", "assign_cycles", "capacity_correlation", "cycle_summary", "default_store",
    "join_spectra", "read_cycler_table", "render_report", "species_vs_cycle", "trends",
]
