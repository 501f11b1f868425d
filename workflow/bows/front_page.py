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

# Snakemake's report shows the front page in a narrow column (Tailwind's max-w-lg) beside the rule graph, and
# centres it vertically, which hides the top of a long page. On the page that holds this fragment (``:has``), the
# column takes the content's width, starts at the top, and the rule graph wraps below it. If a later Snakemake
# renames these classes the rules match nothing and the page keeps Snakemake's own layout.
LAYOUT = """<style>
div.overflow-auto:has(.bows-front) { align-items: flex-start; }
div.items-start:has(.bows-front) { flex-wrap: wrap; }
div.prose:has(.bows-front) { max-width: min(1080px, 100%) !important; }
.bows-front table td, .bows-front table th { padding: 2px 6px; }
.bows-front code::before, .bows-front code::after { content: none; }
</style>"""


def esc(x: Any) -> str:
    return html.escape(str(x))


def image(path: str | Path | None, alt: str) -> str:
    """A PNG or SVG as an embedded <img> at its own size, never wider than the page (nothing for another format or a
    missing file)."""
    if not path or not Path(path).is_file():
        return ""
    mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(Path(path).suffix.lower())
    if mime is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (
        f"<img src='data:{mime};base64,{data}' alt='{esc(alt)}' "
        "style='max-width:100%;height:auto;border:1px solid #ddd;margin:4px 0'>"
    )


def paragraph(text: str) -> str:
    return f"<p style='margin:6px 0'>{text}</p>"


def heading(text: str) -> str:
    """A part of the front page, at the level of the report's own sections."""
    return f"<h1 style='margin:18px 0 6px 0'>{esc(text)}</h1>"


def subheading(text: str) -> str:
    return f"<h2 style='margin:12px 0 4px 0'>{esc(text)}</h2>"


# ------------------------------------------------------------------------------------------------ the verdict
def _count_box(status: str, n: int) -> str:
    colour = STATUS_COLOURS[status]
    return (
        f"<div style='display:inline-block;min-width:104px;margin:0 8px 4px 0;padding:4px 10px;text-align:center;"
        f"border:2px solid {colour};border-radius:6px'>"
        f"<div style='font-size:26px;font-weight:bold;color:{colour};line-height:1.15'>{n}</div>"
        f"<div style='font-size:12px;color:#333'>{WORDS[status]}</div></div>"
    )


def verdict_html(claim_sets: Mapping[str, Sequence[Record]]) -> str:
    """The counts of all claims by status, large, and one line per set of claims."""
    total = {s: sum(counts(r)[s] for r in claim_sets.values()) for s in STATUSES}
    boxes = "".join(_count_box(s, total[s]) for s in STATUSES)
    lines = "".join(
        f"<li><b>{esc(name)}</b>: {' · '.join(f'{counts(r)[s]} {WORDS[s]}' for s in STATUSES)}</li>"
        for name, r in claim_sets.items()
    )
    n = sum(total.values())
    out = (
        f"<div style='margin:4px 0'>{boxes}</div>"
        f"<p style='margin:2px 0'>{n} claims of the paper checked in this run:</p>"
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


def _subspace_numbers(record: Record) -> str:
    """Criterion 17 in a few words: the first model's overlap from wd 0 to the largest wd and its decay exposure."""
    if record.status in ("not_applicable", "error") or not record.value:
        return esc(record.reason)
    name, v = next(iter(record.value.items()))
    exposure = [e for e in v.get("exposure") or [] if e is not None]
    text = (
        f"overlap {v['overlap_cov'][0]:.3f} → {v['overlap_cov'][1]:.3f} for <code>{esc(name)}</code> "
        f"from wd {v['wd'][0]:g} to {v['wd'][1]:g}"
    )
    if exposure:
        text += f" at decay exposure E = {exposure[-1]:.2g}"
        text += " (below 1: weight decay barely acts)" if exposure[-1] < 1 else ""
    more = len(record.value) - 1
    return text + (f", and {more} more latent size(s) below" if more else "")


def in_short_html(criteria: Sequence[Record], synthetic: Sequence[Record]) -> str:
    """One line per result this scale can show (criterion 17, the synthetic rings and pairs) with its status, and
    the number of criteria it cannot test; the sections below give the numbers."""
    lines = []
    c17 = next((r for r in criteria if r.id == SUBSPACE_CRITERION), None)
    if c17 is not None:
        lines.append(f"{badge(c17.status)} {esc(c17.claim)} (criterion 17): {_subspace_numbers(c17)}")
    for cid in SYNTHETIC_CLAIMS[:2]:
        recs = [r for r in synthetic if r.id == cid]
        if recs:
            per = " · ".join(
                f"{esc(r.keys['variant'])}/{esc(r.keys['structure'])}"
                f"{' (the null)' if r.keys['structure'] == 'iid' else ''} {badge(r.status)} "
                f"{esc(r.notes.get('held in seeds', ''))}"
                for r in recs
            )
            lines.append(f"Synthetic: {esc(recs[0].claim)}: {per}")
    untested = [r for r in criteria if r.status == "not_applicable"]
    if untested:
        lines.append(
            f"{len(untested)} of {len(criteria)} criteria cannot be tested at this scale: "
            + ", ".join(str(r.id) for r in untested)
            + " (reasons below)"
        )
    if not lines:
        return ""
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f"<p style='margin:6px 0 2px 0'><b>In short</b>:</p><ul style='margin:2px 0 6px 0'>{items}</ul>"


# ------------------------------------------------------------------------------------------------ what it shows
def subspace_html(record: Record | None, subspace: pd.DataFrame | None, figure: str | Path | None) -> str:
    """Criterion 17 with its numbers per latent size, the baselines beside it, and the principal-subspace figure."""
    head = subheading("Weight decay and the principal subspace (criterion 17)")
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
    head = subheading("The mechanism on planted correlations (synthetic branch)")
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
    head = heading("What this run cannot show, and why")
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


#: optional stages: (whether the config switches it on, what it is, the setting that switches it on)
OPTIONAL_STAGES = (
    (
        lambda c: c["value_coding"]["enabled"],
        "Value coding (the paper's Table 1: the city map and modular addition; about 3.5 min of CPU on 2 cores)",
        "value_coding: {enabled: true}",
    ),
    (
        lambda c: bool(c["windows"]["exclude_cooccurrence"]),
        "The co-occurrence ablation (docs/ablation.md; about 4 min on 2 cores at the default scale)",
        "windows: {exclude_cooccurrence: [Months]}",
    ),
    (lambda c: c["synthetic"]["enabled"], "The synthetic branch (docs/synthetic.md)", "synthetic: {enabled: true}"),
    (lambda c: c["sae"]["enabled"], "The SAE benchmark (docs/sae.md)", "sae: {enabled: true}"),
    (
        lambda c: c["references"]["enabled"],
        "The language models and word vectors (docs/references.md)",
        "references: {enabled: true}",
    ),
    (
        lambda c: c["train"]["snapshots"]["count"] > 0,
        "Snapshots over training and the dynamics (docs/dynamics.md)",
        "train: {snapshots: {count: 12}}",
    ),
)


def switched_off(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, the setting that switches it on) of each optional stage a validated config leaves out."""
    return [(what, setting) for on, what, setting in OPTIONAL_STAGES if not on(config)]


def switched_off_html(off: Sequence[Sequence[str]]) -> str:
    """The optional stages this run leaves out, each with the setting that adds it (nothing when none is off)."""
    if not off:
        return ""
    items = "".join(f"<li>{esc(what)}: add <code>{esc(setting)}</code> to a config file</li>" for what, setting in off)
    return heading("Switched off in this run") + f"<ul style='margin:2px 0'>{items}</ul>"


# ------------------------------------------------------------------------------------------------ explorers, grid
def explorer_links(explorers: Mapping[str, str]) -> str:
    """The marked place of the interactive explorers: one link per explorer (label → its report result path),
    opening the explorer inside the report."""
    head = heading("Interactive explorers")
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
    head = heading("The training grid of this run")
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
    off: Sequence[Sequence[str]] = (),
) -> str:
    """Write the front page's verdict fragment to ``out`` (atomically, with a provenance sidecar) and return it.

    ``claims`` maps the name of each set of claims to the JSON file :func:`bows.claims.write_claims` wrote (the
    reproduction criteria under ``"Reproduction criteria"``); ``synthetic_figures`` maps ``variant/structure`` to its
    Gram grid (the first structure whose antipodal-pair claim passes is shown, else the first); ``explorers`` maps a
    label to the report path of an interactive explorer; ``off`` lists the optional stages left out
    (:func:`switched_off`)."""
    sets = {name: read_claims(path) for name, path in claims.items() if path and Path(path).is_file()}
    criteria = sets.get(CRITERIA, [])
    sub, loss = _parquet(subspace), _parquet(losses)
    synthetic = [r for name, recs in sets.items() if name != CRITERIA for r in recs if r.keys.get("structure")]
    key, figure = _synthetic_figure(synthetic, synthetic_figures or {})
    parts = [
        LAYOUT,
        "<div class='bows-front' style='font-size:14px;line-height:1.4'>",
        heading("What this run found"),
        verdict_html(sets),
        in_short_html(criteria, synthetic),
        image(dashboard, "reproduction criteria dashboard"),
        heading("What this scale does show"),
        subspace_html(next((r for r in criteria if r.id == SUBSPACE_CRITERION), None), sub, subspace_figure),
        synthetic_html(synthetic, figure, key),
        cannot_show_html(criteria),
        switched_off_html(off),
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
        off=p["switched_off"],
    )
