"""The lineage report as one self-contained HTML page, for people who never saw the product.

The page needs nothing but a browser: CSS is inline (read from the package's
``report.css``), plots are PNG data URIs, there is no script and no network access.
Its sections and their ``id`` anchors are those of
:data:`lineage.assemble.SECTIONS`, so links into a report stay valid.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from lineage.assemble import SECTIONS
from lineage.formatting import lifecycle_meaning
from lineage.html_blocks import e, hash_html, section, ts
from lineage.html_sections import DETAIL_SECTIONS
from lineage.html_summary import state_badge, summary

__all__ = ["FIGURE_PLACES", "to_html"]

FIGURE_PLACES = {
    "plots/feature_contributions.png": (
        "training",
        "What the predicted cost is made of, on a holdout sample: the mean absolute size of "
        "each term of the cost law and of the residual booster's correction per feature, "
        "then the two largest against the input they depend on.",
    ),
    "plots/challenger_residuals.png": (
        "comparison",
        "Left: prediction errors on the held-out orders, this version against the model it "
        "was compared with. Right: predicted against realised cost (closer to the dotted "
        "diagonal is better).",
    ),
    "plots/stress_shortfall_distributions.png": (
        "stress",
        "Distribution of the execution cost (implementation shortfall) over the simulated "
        "paths, per stress scenario.",
    ),
    "plots/stress_vol_spike_path.png": (
        "stress",
        "One simulated path of the volatility-spike scenario: how the schedule this version "
        "chose for the largest stress order executed.",
    ),
}
"""Artifact path of each known plot -> (section id it belongs in, caption)."""

_RENDERERS = {"summary": summary, **DETAIL_SECTIONS}


def to_html(report: Mapping[str, Any], figures: Mapping[str, bytes] | None = None) -> str:
    """Render a lineage report as one self-contained HTML document.

    Parameters
    ----------
    report : Mapping
        From :func:`lineage.gather.lineage_report`.
    figures : Mapping of str to bytes, optional
        PNG bytes by artifact path (:func:`lineage.gather.run_figures`).
        Known plots (:data:`FIGURE_PLACES`) are shown in their section, others under
        Training.

    Returns
    -------
    str
        The HTML text: an introduction for a first-time reader, a table of contents,
        then one ``<section id=...>`` per entry of ``SECTIONS``.
    """
    placed = _place_figures(figures or {})
    title = f"Lineage report: {report['model']} version {report['version']}"
    body = [_header(report, title), _intro(report), _contents()]
    for anchor, heading in SECTIONS:
        content = _RENDERERS[anchor](report) + placed.get(anchor, [])
        body.append(section(anchor, heading, content))
    body.append(_footer(report))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{_css()}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


@cache
def _css() -> str:
    return (files("lineage") / "report.css").read_text(encoding="utf-8")


def _place_figures(figures: Mapping[str, bytes]) -> dict[str, list[str]]:
    """Each plot as a ``<figure>`` under the anchor of the section it belongs in."""
    placed: dict[str, list[str]] = {}
    known = [p for p in FIGURE_PLACES if p in figures]
    for path in known + sorted(set(figures) - set(known)):
        anchor, caption = FIGURE_PLACES.get(path, ("training", f"Plot logged on the run: {path}"))
        data = base64.b64encode(figures[path]).decode("ascii")
        placed.setdefault(anchor, []).append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)} <code>{escape(path)}</code></figcaption></figure>"
        )
    return placed


def _header(report: Mapping[str, Any], title: str) -> str:
    state = report["lifecycle"]
    return (
        "<header>\n"
        '<p class="kicker">Model governance &middot; lineage report</p>\n'
        f"<h1>{escape(title)}</h1>\n"
        f"<p>Current state: {state_badge(state)} {e(lifecycle_meaning(state))}</p>\n"
        f'<p class="meta">Generated {ts(report["audit"]["verified_at"])} from the MLflow '
        "model registry and the governance audit log.</p>\n</header>"
    )


def _intro(report: Mapping[str, Any]) -> str:
    model, version = e(report["model"]), e(report["version"])
    return f"""<section class="intro" id="about">
<h2>What this document is</h2>
<p>{model} is a machine-learning model that predicts what it will cost to execute a large
("block") order in the market; the trading system uses those predictions to decide how fast
to trade. Each retraining produces a new <em>version</em>. Before a version may be used it
must pass automatic checks and be signed off by a validator who did not build it; every
step is written to an append-only audit log.</p>
<p>This report is the record of version {version}: the data it learnt from, the checks it went
through, who approved it, when it went into and out of production, and whether the audit
log that holds this record is intact. Each section names the audit event or registry entry
its evidence comes from. Missing evidence is marked as such, never left out.</p>
<dl>
<dt>champion</dt><dd>the version in production; a new version is the <em>challenger</em>
and must do at least as well on the same held-out orders.</dd>
<dt>bps</dt><dd>basis points: 1 bps = 0.01 % of the order's value.</dd>
<dt>SHA-256 hash</dt><dd>a 64-character fingerprint of a file's exact content; any change
to the content changes it.</dd>
<dt>gates</dt><dd>pass/fail limits from the risk policy that the version was measured
against.</dd>
</dl>
</section>"""


def _contents() -> str:
    items = "".join(f'<li><a href="#{a}">{escape(h)}</a></li>' for a, h in SECTIONS)
    return f'<nav aria-label="contents"><strong>Contents</strong><ol>{items}</ol></nav>'


def _footer(report: Mapping[str, Any]) -> str:
    audit = report["audit"]
    head = f"seq {e(audit['head_seq'])}, hash {hash_html(audit['head_hash'])}"
    if not audit["chain_ok"]:
        return (
            f"<footer>The audit chain is intact up to {head} only; entries after it cannot "
            "be trusted until the break is explained.</footer>"
        )
    return (
        f"<footer>Audit log head at generation: {head}. Record it elsewhere: a later report "
        "whose chain verifies but no longer contains this head means the log was truncated "
        "or rewritten.</footer>"
    )
