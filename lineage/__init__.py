"""Lineage of a model version, and the inventory of a model, for auditors.

:func:`lineage_report` answers, for one registered version: which data (URIs and
SHA-256), which contract checks, which code and parameters, which challenger test
against which champion, which stress results (and scenario library), which gates under
which policy, who signed off, when it went live and how it left production, and
whether the audit chain that records all of this still verifies. :func:`inventory`
lists every version of a model with those milestones, one row each.

The package reads along its seams:

* :mod:`~lineage.gather` reads MLflow and the audit log (the only I/O);
* :mod:`~lineage.assemble` builds the report from plain records, with
  :mod:`~lineage.provenance`, :mod:`~lineage.judging_sections` and
  :mod:`~lineage.events` for its sections; lifecycle milestones come from
  the one replay of the log, :mod:`governance.ledger.replay`;
* :mod:`~lineage.inventory` builds and renders the inventory;
* :mod:`~lineage.markdown` and :mod:`~lineage.html_page` render
  the report, wording values through :mod:`~lineage.formatting` and taking
  table headings from :mod:`~lineage.columns`;
* :mod:`~lineage.formats` gathers and renders in the format asked for.
"""

from lineage.assemble import REPORT_KEYS, SECTIONS, assemble_report
from lineage.events import EVENT_ROLES, describe_event
from lineage.formats import (
    INVENTORY_FORMATS,
    REPORT_FORMATS,
    choose_format,
    render_inventory,
    render_report,
)
from lineage.gather import inventory, lineage_report, require_registry, run_figures
from lineage.html_page import FIGURE_PLACES, to_html
from lineage.inventory import (
    INVENTORY_COLUMNS,
    inventory_csv,
    inventory_markdown,
    inventory_rows,
)
from lineage.markdown import to_markdown

__all__ = [
    "EVENT_ROLES",
    "FIGURE_PLACES",
    "INVENTORY_COLUMNS",
    "INVENTORY_FORMATS",
    "REPORT_FORMATS",
    "REPORT_KEYS",
    "SECTIONS",
    "assemble_report",
    "choose_format",
    "describe_event",
    "inventory",
    "inventory_csv",
    "inventory_markdown",
    "inventory_rows",
    "lineage_report",
    "render_inventory",
    "render_report",
    "require_registry",
    "run_figures",
    "to_html",
    "to_markdown",
]
