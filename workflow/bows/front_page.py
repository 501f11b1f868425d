"""Rule report_front_page: the verdict that opens the report, written from the run's own tables.

The report's front page (``workflow/report/workflow.rst``) starts with this HTML fragment: the counts of every set
of claims (pass / fail / not applicable / error) with the criteria dashboard; the results this scale does show, with
their numbers and figures (criterion 17, weight decay pushing W towards the data's principal subspace; the synthetic
branch's rings under strong weight decay and antipodal pairs of anti-correlated features); what it cannot show and
why (the criteria this run could not test, with their reasons); links to the interactive explorers; and the training
grid as a table. Every number comes from a file the workflow wrote (claims JSON, the subspace and loss tables), none
from the config's defaults. Figures are embedded as data URIs, so the report stays one self-contained file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import io
from .claims import STATUS_COLOURS, STATUSES, Record, badge, counts, read_claims
from .stage import Job, Stage

__all__ = ["STAGE", "write_front_page", "verdict_html", "grid_table", "explorer_links"]

STAGE = Stage(__name__, files=("html",))

CRITERIA = "Reproduction criteria"
SUBSPACE_CRITERION = 17
SYNTHETIC_CLAIMS = ("strong_wd_keeps_ring_longer", "relu_antipodal_pairs", "relu_pairs_follow_data")
WORDS = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable", "error": "error"}


def esc(x: Any) -> str:
    return html.escape(str(x))


def image(path: str | Path | None, alt: str, width: str = "100%") -> str:
    """A PNG or SVG as an embedded <img> (nothing for another format or a missing file)."""
    if not path or not Path(path).is_file():
        return ""
    mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(Path(path).suffix.lower())
    if mime is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (
        f"<img src='data:{mime};base64,{data}' alt='{esc(alt)}' "
        f"style='width:{width};max-width:100%;height:auto;border:1px solid #ddd'>"
    )


def paragraph(text: str) -> str:
    return f"<p style='margin:6px 0'>{text}</p>"


# ------------------------------------------------------------------------------------------------ the verdict
def _count_cell(status: str, n: int) -> str:
    colour = STATUS_COLOURS[status]
    return (
        f"<td style='padding:4px 14px;text-align:center;border:none'>"
        f"<div style='font-size:28px;font-weight:bold;color:{colour};line-height:1.1'>{n}</div>"
        f"<div style='font-size:12px;color:#444'>{WORDS[status]}</div></td>"
    )


def verdict_html(claim_sets: Mapping[str, Sequence[Record]]) -> str:
    """The counts of all claims by status, large, and one line per set of claims."""
    total = {s: sum(counts(r)[s] for r in claim_sets.values()) for s in STATUSES}
    cells = "".join(_count_cell(s, total[s]) for s in STATUSES)
    lines = "".join(
        f"<li><b>{esc(name)}</b>: {' · '.join(f'{counts(r)[s]} {WORDS[s]}' for s in STATUSES)}</li>"
        for name, r in claim_sets.items()
    )
    n = sum(total.values())
    out = (
        f"<table style='border-collapse:collapse;margin:4px 0'><tr>{cells}</tr></table>"
        f"<p style='margin:2px 0'>{n} claims of the paper tested in this run:</p>"
        f"<ul style='margin:2px 0 6px 0'>{lines}</ul>"
    )
    if total["error"]:
        failing = [f"{name} {r.id}" for name, recs in claim_sets.items() for r in recs if r.status == "error"]
        out += paragraph(
            f"<b style='color:{STATUS_COLOURS['error']}'>{total['error']} claim(s) could not be evaluated because "
            f"their test raised ({esc(', '.join(failing))}): a bug or a broken table, to be fixed before reading the "
            "other verdicts. The reason is in the tables below and the traceback in the job's log.</b>"
        )
    return out


# ------------------------------------------------------------------------------------------------ what it shows
def subspace_html(record: Record | None, subspace: pd.DataFrame | None, figure: str | Path | None) -> str:
    """Criterion 17 with its numbers per latent size, the baselines beside it, and the principal-subspace figure."""
    head = "<h3 style='margin:10px 0 4px 0'>Weight decay and the principal subspace (criterion 17)</h3>"
    if record is None:
        return head + paragraph("Criterion 17 is not in this run's criteria table.")
    text = (
        f"{badge(record.status)} Weight decay pushes the ReLU autoencoder towards the windows' top principal "
        "subspace: at the same L, the overlap of W's row space with the top-L covariance eigenvectors rises and "
        "‖W‖²<sub>F</sub>/L falls from weight decay 0 to the largest."
    )
    if record.status == "not_applicable":
        return head + paragraph(f"{text} Not tested here: {esc(record.reason)}.")
    if record.status == "error":
        return head + paragraph(f"{text} The test raised: {esc(record.reason)}.")
    rows = []
    for name, v in (record.value or {}).items():
        exposure = [e for e in v.get("exposure") or [] if e is not None]
        rows.append(
            f"<li><code>{esc(name)}</code>: overlap {v['overlap_cov'][0]:.3f} → {v['overlap_cov'][1]:.3f}, "
            f"‖W‖²<sub>F</sub>/L {v['frob2_per_latent'][0]:.3f} → {v['frob2_per_latent'][1]:.3f} from wd "
            f"{v['wd'][0]:g} to {v['wd'][1]:g}"
            + (f" (decay exposure E = {exposure[-1]:.3g})" if exposure else "")
            + f": {badge('pass' if v['pass'] else 'fail')}</li>"
        )
    out = head + paragraph(text) + f"<ul style='margin:2px 0'>{''.join(rows)}</ul>"
    out += _subspace_context(record, subspace)
    return out + image(figure, "principal-subspace overlap against L and weight decay")


def _subspace_context(record: Record, subspace: pd.DataFrame | None) -> str:
    """The baselines (random L/V, the trained linear model, PCA) and, when weight decay barely acted, the exposure
    against the paper's."""
    if subspace is None or not len(subspace):
        return ""
    th = record.threshold or {}
    parts = [
        f"Pass: the overlap rises by at least {th.get('min_overlap_rise', float('nan')):g} and ‖W‖²<sub>F</sub>/L "
        f"falls to at most {th.get('max_norm_ratio', float('nan')):g} of its value at wd 0 "
        "(<code>analysis.thresholds</code>)."
    ]
    largest = int(subspace["latent"].max())
    at = subspace[subspace["latent"] == largest]
    base = [f"a random subspace {float(at['random_baseline'].iloc[0]):.3f}"]
    for variant, label in (("linear", "the trained linear autoencoder"), ("pca", "PCA")):
        rows = at[at["variant"] == variant]
        if len(rows):
            base.append(f"{label} {float(rows['overlap_cov'].iloc[0]):.3f}")
    parts.append(f"At L = {largest} the overlap of {', '.join(base)}.")
    decayed = subspace[(subspace["variant"] == "relu") & (subspace["wd"] > 0)].dropna(subset=["decay_exposure"])
    if len(decayed):
        top = decayed.loc[decayed["wd"].idxmax()]
        low = top["decay_exposure"] < 1
        parts.append(
            f"At wd {top['wd']:g} this run's decay exposure is E = {top['decay_exposure']:.3g} "
            f"(the paper's run: {top['decay_exposure_paper']:.3g})"
            + ("; below 1, weight decay barely acts, so the criterion cannot be expected to pass." if low else ".")
        )
    return paragraph(" ".join(parts))


def synthetic_html(records: Sequence[Record], figure: str | Path | None, figure_key: str = "") -> str:
    """The synthetic branch's ring and antipodal-pair claims per structure, and one Gram grid."""
    head = "<h3 style='margin:10px 0 4px 0'>The mechanism on planted correlations (synthetic branch)</h3>"
    shown = [r for r in records if r.id in SYNTHETIC_CLAIMS]
    if not shown:
        return head + paragraph("The synthetic branch is not part of this run (<code>synthetic.enabled</code>).")
    subjects = list(dict.fromkeys(f"{r.keys.get('variant')}/{r.keys.get('structure')}" for r in shown))
    by = {(r.id, f"{r.keys.get('variant')}/{r.keys.get('structure')}"): r for r in shown}
    header = "".join(f"<th style='padding:2px 6px'>{esc(s)}</th>" for s in subjects)
    body = ""
    for cid in SYNTHETIC_CLAIMS:
        rec = next((r for r in shown if r.id == cid), None)
        if rec is None:
            continue
        cells = ""
        for s in subjects:
            r = by.get((cid, s))
            seeds = f" {esc(r.notes.get('held in seeds', ''))}" if r is not None else ""
            cells += f"<td style='padding:2px 6px'>{badge(r.status) + seeds if r is not None else '—'}</td>"
        body += f"<tr><td style='padding:2px 6px'>{esc(rec.claim)}</td>{cells}</tr>"
    table = (
        "<table style='border-collapse:collapse;font-size:12px;margin:4px 0'>"
        f"<tr><th style='padding:2px 6px;text-align:left'>claim (seeds at which it holds)</th>{header}</tr>"
        f"{body}</table>"
    )
    text = paragraph(
        "Small tied autoencoders on binary features whose co-activation is known: a ring (<code>circular</code>) "
        "and the uncorrelated null (<code>iid</code>). The paper's signatures are a ring kept to larger latent sizes "
        "under strong weight decay, and antipodal pairs formed by features that are anti-correlated in the data."
    )
    caption = paragraph(f"Gram grid of <code>{esc(figure_key)}</code>.") if figure and figure_key else ""
    return head + text + table + image(figure, "synthetic Gram grid") + caption


def cannot_show_html(records: Sequence[Record]) -> str:
    """The criteria this run could not test, each with its reason."""
    head = "<h3 style='margin:10px 0 4px 0'>What this run cannot show, and why</h3>"
    untested = [r for r in records if r.status == "not_applicable"]
    if not untested:
        return head + paragraph("Every reproduction criterion was tested in this run.")
    items = "".join(f"<li><b>{esc(r.id)}. {esc(r.claim)}</b>: {esc(r.reason)}</li>" for r in untested)
    return (
        head
        + paragraph(
            f"{len(untested)} of {len(records)} criteria cannot be tested at this scale. They rest on words or latent "
            "sizes that a corpus or grid this small does not have (see <i>What this scale can and cannot show</i> "
            "below); <code>presets/paper.yaml</code> runs the paper's scale."
        )
        + f"<ul style='margin:2px 0'>{items}</ul>"
    )


# ------------------------------------------------------------------------------------------------ explorers, grid
def explorer_links(explorers: Mapping[str, str]) -> str:
    """The marked place of the interactive explorers: one link per explorer (label → its report result path),
    opening the explorer inside the report."""
    head = "<h3 style='margin:10px 0 4px 0'>Interactive explorers</h3>"
    if not explorers:
        return head + paragraph("<i>No interactive explorer was written in this run.</i>")
    links = "".join(
        f"<li><a href=\"javascript:app.setView({{content: 'html', contentPath: results['{esc(path)}'].data_uri, "
        f"resultPath: '{esc(path)}'}})\">{esc(label)}</a></li>"
        for label, path in explorers.items()
    )
    return head + paragraph("One self-contained page per analysed model:") + f"<ul style='margin:2px 0'>{links}</ul>"


GRID_COLUMNS = {
    "model": "model",
    "steps": "steps",
    "decay_exposure": "decay exposure E",
    "overlap_cov": "principal-subspace overlap",
    "random_baseline": "random L/V",
    "frob2_per_latent": "‖W‖²_F / L",
    "val_loss": "final held-out loss",
}


def grid_table(subspace: pd.DataFrame | None, losses: pd.DataFrame | None) -> pd.DataFrame:
    """One row per model of the grid: its steps, decay exposure, principal-subspace overlap (with the random
    baseline), ‖W‖²_F/L and final held-out loss, from the run's subspace and loss tables."""
    if subspace is None or not len(subspace):
        return pd.DataFrame(columns=list(GRID_COLUMNS.values()))
    table = subspace.sort_values(["variant", "latent", "wd", "seed"]).copy()
    if losses is not None and len(losses):
        last = losses.loc[losses.groupby("model")["epoch"].idxmax(), ["model", "val_loss"]]
        table = table.merge(last, on="model", how="left")
    else:
        table["val_loss"] = float("nan")
    return table[list(GRID_COLUMNS)].rename(columns=GRID_COLUMNS)


def grid_html(table: pd.DataFrame) -> str:
    head = "<h3 style='margin:10px 0 4px 0'>The training grid of this run</h3>"
    if not len(table):
        return head + paragraph("No subspace table: the grid's models were not analysed in this run.")
    body = table.to_html(
        index=False, border=0, na_rep="—", float_format=lambda v: f"{v:.3g}", classes="bows-grid", justify="left"
    )
    body = body.replace("<table", "<table style='border-collapse:collapse;font-size:12px'", 1)
    return head + body


# ------------------------------------------------------------------------------------------------ the page
def _parquet(path: str | Path | None) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path and Path(path).is_file() else None


def write_front_page(
    out: str | Path,
    claims: Mapping[str, str | Path],
    dashboard: str | Path | None = None,
    subspace: str | Path | None = None,
    losses: str | Path | None = None,
    subspace_figure: str | Path | None = None,
    synthetic_figures: Mapping[str, str | Path] | None = None,
    explorers: Mapping[str, str] | None = None,
) -> str:
    """Write the front page's verdict fragment to ``out`` (atomically, with a provenance sidecar) and return it.

    ``claims`` maps the name of each set of claims to the JSON file :func:`bows.claims.write_claims` wrote (the
    reproduction criteria under ``"Reproduction criteria"``); ``synthetic_figures`` maps ``variant/structure`` to its
    Gram grid (the first structure whose antipodal-pair claim passes is shown, else the first); ``explorers`` maps a
    label to the report path of an interactive explorer."""
    sets = {name: read_claims(path) for name, path in claims.items() if path and Path(path).is_file()}
    criteria = sets.get(CRITERIA, [])
    sub, loss = _parquet(subspace), _parquet(losses)
    synthetic = [r for name, recs in sets.items() if name != CRITERIA for r in recs if r.keys.get("structure")]
    key, figure = _synthetic_figure(synthetic, synthetic_figures or {})
    parts = [
        "<div class='bows-front' style='font-size:14px;line-height:1.4'>",
        "<h2 style='margin:0 0 4px 0'>What this run found</h2>",
        verdict_html(sets),
        image(dashboard, "reproduction criteria dashboard"),
        "<h2 style='margin:14px 0 4px 0'>What this scale does show</h2>",
        subspace_html(next((r for r in criteria if r.id == SUBSPACE_CRITERION), None), sub, subspace_figure),
        synthetic_html(synthetic, figure, key),
        cannot_show_html(criteria),
        explorer_links(explorers or {}),
        grid_html(grid_table(sub, loss)),
        "</div>",
    ]
    text = "\n".join(parts)
    io.write_text(out, text)
    inputs = {**{f"claims: {k}": str(v) for k, v in claims.items() if v}, "subspace": subspace, "losses": losses}
    io.write_sidecar(out, {}, inputs={k: v for k, v in inputs.items() if v}, hash_inputs=False)
    return text


def _synthetic_figure(records: Sequence[Record], figures: Mapping[str, str | Path]) -> tuple[str, Any]:
    """(variant/structure, Gram grid) to show: the first whose antipodal-pair claim passes, else the first."""
    passing = [
        f"{r.keys['variant']}/{r.keys['structure']}"
        for r in records
        if r.id == "relu_antipodal_pairs" and r.status == "pass"
    ]
    for key in [*passing, *figures]:
        if key in figures:
            return key, figures[key]
    return "", None


def run(job: Job) -> None:
    """Rule report_front_page: the verdict fragment from the claims, tables and figures the job's inputs name."""
    i, p = job.input, job.params
    write_front_page(
        job.output.html,
        claims=dict(zip(p["claim_sets"], i.claims)),
        dashboard=i.dashboard,
        subspace=i.subspace,
        losses=i.losses,
        subspace_figure=i.subspace_figure,
        synthetic_figures=dict(zip(p["synthetic_keys"], i.synthetic_figures)),
        explorers=dict(zip(p["explorer_labels"], i.explorers)),
    )
