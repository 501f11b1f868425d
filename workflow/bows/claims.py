"""One engine for every claim the workflow tests: the paper's reproduction criteria, the synthetic branch's claims
and the SAE papers' claims (and any other set of claims) share one record, one evaluator, one table writer and one
report layout.

A claim is a statement of a paper turned into a number with a threshold. A set of claims is a list of
:class:`Claim` objects, each with its test, a small function that measures and decides:

    def weight_ring(inputs, thresholds) -> Outcome:
        adjacent = ...
        if not math.isfinite(adjacent):
            raise NotApplicable("the months model has no month metrics")
        need = ...
        return Outcome(adjacent, need, passed=adjacent >= need, evaluated_at=tag)

    CRITERIA = [Claim(5, "weight PCA ring", claimed_at="L1000 wd4.0", test=weight_ring), ...]
    records = evaluate(CRITERIA, inputs, thresholds)
    write_claims(records, "results/.../criteria", config=..., inputs=...)

:func:`evaluate` turns each test's result into a :class:`Record` with one of four statuses:

* ``pass`` / ``fail``: the test returned an :class:`Outcome` that passed / did not pass its threshold;
* ``not_applicable``: the test raised :class:`NotApplicable`: this run cannot test the claim (a word missing from
  the vocabulary, a latent size the grid does not train); the reason says which;
* ``error``: the test raised anything else: a bug or a broken table. It is never hidden as "not applicable"; the
  reason holds the exception's type and message and the job's log the traceback.

:func:`write_claims` writes the records as one table (``stem.parquet`` and ``stem.csv``: one row per record) and
``stem.json`` (every record in full with its details, the counts by status, provenance), each file atomically.
:func:`write_claims_html` draws them in the layout every claims section of the report shows.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io

__all__ = [
    "STATUSES",
    "STATUS_LABELS",
    "STATUS_COLOURS",
    "NotApplicable",
    "Outcome",
    "Claim",
    "Record",
    "evaluate",
    "evaluate_one",
    "counts",
    "counts_text",
    "errors",
    "compact",
    "json_clean",
    "claims_frame",
    "write_claims",
    "read_claims",
    "read_counts",
    "write_claims_html",
    "badge",
    "TABLE_COLUMNS",
]

log = logging.getLogger("bows.claims")

STATUSES = ("pass", "fail", "not_applicable", "error")
STATUS_LABELS = {"pass": "PASS", "fail": "FAIL", "not_applicable": "N/A", "error": "ERROR"}
STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "not_applicable": "#757575", "error": "#6a1b9a"}
# what each status means, in the words the report uses
STATUS_MEANINGS = {
    "pass": "the claim holds in this run",
    "fail": "the value misses the threshold",
    "not_applicable": "this run cannot test the claim (the reason says why)",
    "error": "the test itself raised: a bug or a broken table, to be fixed (the reason names the exception)",
}
# the flat table's columns, in order; a record's ``keys`` come after ``id``, its ``notes`` at the end
TABLE_COLUMNS = ("id", "claim", "status", "value", "threshold", "claimed_at", "evaluated_at", "reason")


class NotApplicable(Exception):
    """Raised by a claim's test when this run cannot test the claim; the message is the reason.

    What was measured before the test gave up may come along: ``value``, ``threshold``, ``evaluated_at`` and
    ``details`` go into the record as they are."""

    def __init__(
        self, reason: str, *, value: Any = None, threshold: Any = None, evaluated_at: str = "", **details: Any
    ):
        super().__init__(reason)
        self.reason = reason
        self.value = value
        self.threshold = threshold
        self.evaluated_at = evaluated_at
        self.details = details


@dataclass(frozen=True)
class Outcome:
    """What a claim's test measured: the value, the threshold it was held against and whether it passed.

    ``evaluated_at`` names what was measured (a model, a structure), ``details`` the numbers behind the verdict
    (into the JSON only), ``notes`` further short columns of the table (e.g. at how many seeds the claim holds)."""

    value: Any
    threshold: Any
    passed: bool
    evaluated_at: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """One claim: its ``id``, what it says, where the paper makes it (``claimed_at``) and its test, a function that
    returns an :class:`Outcome` or raises :class:`NotApplicable`."""

    id: int | str
    claim: str
    claimed_at: str
    test: Callable[..., Outcome]


@dataclass
class Record:
    """One evaluated claim, as every table, JSON file and report section holds it.

    ``keys`` identify what the claim was tested on when one claim is tested on several things (a synthetic
    structure, an SAE's BOWS model): they are the table's first columns after ``id``. ``notes`` are further
    columns at the end of the table; ``details`` the numbers behind the verdict (JSON only)."""

    id: int | str
    claim: str
    value: Any
    threshold: Any
    status: str
    claimed_at: str
    evaluated_at: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown claim status {self.status!r}; one of {STATUSES}")

    def to_json(self) -> dict[str, Any]:
        return json_clean(
            {
                "id": self.id,
                "claim": self.claim,
                "status": self.status,
                "value": self.value,
                "threshold": self.threshold,
                "claimed_at": self.claimed_at,
                "evaluated_at": self.evaluated_at,
                "reason": self.reason,
                "details": self.details,
                "keys": self.keys,
                "notes": self.notes,
            }
        )

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Record:
        names = ("id", "claim", "value", "threshold", "status", "claimed_at", "evaluated_at", "reason")
        extra = {k: dict(d.get(k) or {}) for k in ("details", "keys", "notes")}
        return cls(**{k: d.get(k) for k in names}, **extra)


# ------------------------------------------------------------------------------------------------ the evaluator
def evaluate(claims: Iterable[Claim], *args: Any, keys: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Record]:
    """Run every claim's test on ``(*args, **kwargs)``; one :class:`Record` per claim, in order. A test that
    raises :class:`NotApplicable` gives ``not_applicable``; one that raises anything else gives ``error`` (logged
    with its traceback), and the other claims are still evaluated. ``keys`` go into every record."""
    return [evaluate_one(claim, *args, keys=keys, **kwargs) for claim in claims]


def evaluate_one(claim: Claim, *args: Any, keys: Mapping[str, Any] | None = None, **kwargs: Any) -> Record:
    """One claim's :class:`Record` (see :func:`evaluate`)."""
    base = {"id": claim.id, "claim": claim.claim, "claimed_at": claim.claimed_at, "keys": dict(keys or {})}
    try:
        out = claim.test(*args, **kwargs)
    except NotApplicable as na:
        return Record(
            **base,
            value=na.value,
            threshold=na.threshold,
            status="not_applicable",
            evaluated_at=na.evaluated_at,
            reason=na.reason,
            details=dict(na.details),
        )
    except Exception as err:  # noqa: BLE001 - reported as status error, never hidden; the other claims still run
        log.exception("claim %s (%s) raised", claim.id, claim.claim)
        return Record(
            **base,
            value=None,
            threshold=None,
            status="error",
            evaluated_at="",
            reason=f"{type(err).__name__}: {err}",
        )
    if not isinstance(out, Outcome):
        return Record(
            **base,
            value=None,
            threshold=None,
            status="error",
            evaluated_at="",
            reason=f"TypeError: the test returned {type(out).__name__}, not an Outcome",
        )
    return Record(
        **base,
        value=out.value,
        threshold=out.threshold,
        status="pass" if bool(out.passed) else "fail",
        evaluated_at=out.evaluated_at,
        details=dict(out.details),
        notes=dict(out.notes),
    )


def counts(records: Iterable[Record]) -> dict[str, int]:
    """The number of records with each status (every status, zeros included)."""
    statuses = [r.status for r in records]
    return {s: statuses.count(s) for s in STATUSES}


def errors(records: Iterable[Record]) -> list[Record]:
    """The records whose test raised (status ``error``)."""
    return [r for r in records if r.status == "error"]


# ------------------------------------------------------------------------------------------------ text and JSON
def json_clean(obj: Any) -> Any:
    """``obj`` as strict JSON data: NaN and ±inf become None, numpy scalars and arrays Python ones, tuples lists."""
    if isinstance(obj, Mapping):
        return {str(k): json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [json_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def compact(value: Any, limit: int = 400) -> str:
    """A short readable rendering of a value or threshold: numbers to 3 significant digits, dicts as ``key:
    value`` pairs (a nested dict with a ``pass`` flag as pass/fail), None as "—"; cut at ``limit`` characters."""

    def one(v: Any, depth: int = 0) -> str:
        if v is None:
            return "—"
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            return "nan" if math.isnan(v) else f"{v:.3g}"
        if isinstance(v, Mapping):
            if not v:
                return "—"
            if depth > 0 and "pass" in v:
                return "pass" if v["pass"] else "fail"
            return ", ".join(f"{k}: {one(x, depth + 1)}" for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(one(x, depth + 1) for x in v) + "]"
        return str(v)

    text = one(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------ the table writer
def claims_frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per record: ``id``, the records' ``keys``, ``claim, status, value, threshold, claimed_at,
    evaluated_at, reason`` and the records' ``notes`` (value and threshold as :func:`compact` text)."""
    key_cols = _union(r.keys for r in records)
    note_cols = _union(r.notes for r in records)
    rows = []
    for r in records:
        row: dict[str, Any] = {"id": str(r.id)}
        row.update({k: _cell(r.keys.get(k)) for k in key_cols})
        row.update(
            claim=r.claim,
            status=r.status,
            value=compact(r.value),
            threshold=compact(r.threshold),
            claimed_at=r.claimed_at or "",
            evaluated_at=r.evaluated_at or "",
            reason=r.reason or "",
        )
        row.update({k: _cell(r.notes.get(k)) for k in note_cols})
        rows.append(row)
    columns = ["id", *key_cols, *TABLE_COLUMNS[1:], *note_cols]
    return pd.DataFrame(rows, columns=columns)


def _union(dicts: Iterable[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for d in dicts:
        out += [k for k in d if k not in out]
    return out


def _cell(v: Any) -> str:
    return "" if v is None else (v if isinstance(v, str) else compact(v))


def write_claims(
    records: Sequence[Record],
    stem: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``stem.parquet`` and ``stem.csv`` (:func:`claims_frame`, each with a provenance sidecar) and
    ``stem.json`` (``{name: [every record in full], "summary": counts by status, **extra, "provenance"}``, where
    ``name`` is the stem's file name: ``criteria.json`` lists ``criteria``, ``claims.json`` ``claims``), each
    atomically. ``config`` is the config slice the claims read, ``inputs`` the files they read. Returns the
    three paths."""
    stem = Path(str(stem).removesuffix(".json").removesuffix(".parquet").removesuffix(".csv"))
    inputs = {k: v for k, v in (inputs or {}).items() if v}
    written = io.write_table(claims_frame(records), stem)
    for path in written:
        io.write_sidecar(path, config, inputs=inputs, hash_inputs=False)
    doc = {
        stem.name: [r.to_json() for r in records],
        "summary": counts(records),
        **json_clean(dict(extra or {})),
        "provenance": io.provenance(config, inputs, hash_inputs=False),
    }
    json_path = stem.with_name(stem.name + ".json")
    io.write_json(json_path, doc)
    log.info("%s: %s", json_path.name, doc["summary"])
    return [*written, json_path]


def read_claims(path: str | Path) -> list[Record]:
    """The records of a JSON file that :func:`write_claims` wrote (listed under the file's name)."""
    return [Record.from_json(d) for d in io.read_json(path).get(Path(path).stem, [])]


def read_counts(path: str | Path) -> dict[str, int]:
    """The counts by status of a JSON file that :func:`write_claims` wrote (every status, zeros included)."""
    return counts(read_claims(path))


# ------------------------------------------------------------------------------------------------ the report layout
def counts_text(n: Mapping[str, int]) -> str:
    """``"3 pass · 2 fail · 12 not applicable · 0 error"``."""
    words = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable", "error": "error"}
    return " · ".join(f"{int(n.get(s, 0))} {words[s]}" for s in STATUSES)


def badge(status: str) -> str:
    """A status as a coloured HTML badge."""
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["not_applicable"])
    label = STATUS_LABELS.get(status, status)
    return (
        f"<span style='background:{colour};color:#fff;border-radius:3px;padding:1px 6px;"
        f"font-weight:bold;white-space:nowrap'>{html.escape(label)}</span>"
    )


def write_claims_html(
    records: Sequence[Record],
    path: str | Path,
    title: str,
    *,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> Path:
    """The records as the report shows every set of claims: the counts by status, what each status means, and
    the table of :func:`claims_frame` with each status as a coloured badge. Written atomically, with a provenance
    sidecar (``config``: the settings the claims read, ``inputs``: the files)."""
    table = claims_frame(records).astype(str).map(html.escape)
    table["status"] = [badge(r.status) for r in records]
    table = table.rename(columns={"claimed_at": "paper's claim at", "evaluated_at": "evaluated at"})
    legend = "".join(f"<li>{badge(s)} {html.escape(STATUS_MEANINGS[s])}</li>" for s in STATUSES)
    head = (
        f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"
        f"<p style='margin:4px 0'><b>{html.escape(counts_text(counts(records)))}</b></p>"
        f"<ul style='margin:4px 0 10px 0;padding-left:18px'>{legend}</ul>"
    )
    page = io.write_html_table(table, path, title, escape=False, align="left", intro=head)
    io.write_sidecar(page, config, inputs={k: v for k, v in (inputs or {}).items() if v}, hash_inputs=False)
    return page
