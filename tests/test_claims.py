"""The claims engine (bows.claims): the four statuses, the table writer and the report layout, on claims written
here whose verdicts are known."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bows import claims as bc


def _above(x, limit):
    return bc.Outcome(x, limit, passed=x > limit, evaluated_at="model A", details={"x": x})


def _missing(x, limit):
    raise bc.NotApplicable("word missing from the vocabulary", value=x, evaluated_at="model A", found=0)


def _broken(x, limit):
    return {"x": x}["y"]  # a coding error: KeyError


def _not_an_outcome(x, limit):
    return x > limit


CLAIMS = [
    bc.Claim(1, "x exceeds the limit", "paper: x = 3", _above),
    bc.Claim(2, "a word is present", "paper: V = 10000", _missing),
    bc.Claim(3, "a broken test", "paper", _broken),
    bc.Claim(4, "a test returning a bool", "paper", _not_an_outcome),
]


def test_statuses_of_the_evaluator():
    recs = bc.evaluate(CLAIMS, 2.0, 1.0)
    assert [r.status for r in recs] == ["pass", "not_applicable", "error", "error"]
    assert recs[0].value == 2.0 and recs[0].threshold == 1.0 and recs[0].evaluated_at == "model A"
    assert recs[0].details == {"x": 2.0} and recs[0].reason == ""
    assert recs[1].reason == "word missing from the vocabulary" and recs[1].value == 2.0
    assert recs[1].details == {"found": 0} and recs[1].evaluated_at == "model A"
    assert recs[2].reason == "KeyError: 'y'" and recs[2].value is None
    assert recs[3].reason.startswith("TypeError") and "Outcome" in recs[3].reason
    assert bc.evaluate(CLAIMS[:1], 0.5, 1.0)[0].status == "fail"
    assert bc.evaluate(CLAIMS[:1], 1.0, 1.0)[0].status == "fail"  # strictly above
    assert bc.counts(recs) == {"pass": 1, "fail": 0, "not_applicable": 1, "error": 2}
    assert [r.id for r in bc.errors(recs)] == [3, 4]


def test_error_is_logged_with_its_traceback(caplog):
    with caplog.at_level("ERROR", logger="bows.claims"):
        bc.evaluate(CLAIMS[2:3], 1.0, 1.0)
    assert "claim 3" in caplog.text and "KeyError" in caplog.text


def test_a_record_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="unknown claim status"):
        bc.Record(1, "c", None, None, "skipped", "", "")


def test_keys_and_notes_become_columns():
    recs = bc.evaluate(CLAIMS[:2], 2.0, 1.0, keys={"structure": "circular"})
    recs[0].notes["held in seeds"] = "2/3"
    df = bc.claims_frame(recs)
    assert list(df.columns) == [
        "id",
        "structure",
        "claim",
        "status",
        "value",
        "threshold",
        "claimed_at",
        "evaluated_at",
        "reason",
        "held in seeds",
    ]
    assert df["structure"].tolist() == ["circular", "circular"] and df["held in seeds"].tolist() == ["2/3", ""]
    assert df["value"].tolist() == ["2", "2"]


@pytest.mark.parametrize(
    "value,text",
    [
        (None, "—"),
        (True, "yes"),
        (3, "3"),
        (0.123456, "0.123"),
        (float("nan"), "nan"),
        ({"a": 1.0, "b": [1, 2.5]}, "a: 1, b: [1, 2.5]"),
        ({"m1": {"x": 1, "pass": False}}, "m1: fail"),
        ({}, "—"),
    ],
)
def test_compact_text(value, text):
    assert bc.compact(value) == text


def test_write_claims_table_json_and_provenance(tmp_path):
    recs = bc.evaluate(CLAIMS, float("nan"), 1.0)  # NaN > 1 is False: a fail with a NaN value
    paths = bc.write_claims(
        recs,
        tmp_path / "criteria",
        config={"analysis": {"thresholds": {"x": 1.0}}},
        inputs={"table": str(tmp_path / "absent.parquet"), "unused": None},
        extra={"thresholds": {"x": 1.0}},
    )
    assert [p.name for p in paths] == ["criteria.parquet", "criteria.csv", "criteria.json"]
    text = (tmp_path / "criteria.json").read_text()
    assert "NaN" not in text  # strict JSON for browsers
    doc = json.loads(text)
    assert [c["status"] for c in doc["criteria"]] == ["fail", "not_applicable", "error", "error"]
    assert doc["criteria"][0]["value"] is None and doc["criteria"][2]["reason"] == "KeyError: 'y'"
    assert doc["summary"] == {"pass": 0, "fail": 1, "not_applicable": 1, "error": 2}
    assert doc["thresholds"] == {"x": 1.0}
    assert doc["provenance"]["config"] == {"analysis": {"thresholds": {"x": 1.0}}}
    assert set(doc["provenance"]["inputs"]) == {"table"}
    for name in ("criteria.parquet", "criteria.csv"):
        assert (tmp_path / f"{name}.prov.json").is_file()
    table = pd.read_parquet(tmp_path / "criteria.parquet")
    assert table["status"].tolist() == ["fail", "not_applicable", "error", "error"]
    assert pd.read_csv(tmp_path / "criteria.csv")["reason"].fillna("").tolist()[2] == "KeyError: 'y'"
    back = bc.read_claims(tmp_path / "criteria.json")
    assert [r.status for r in back] == [r.status for r in recs] and back[1].details == {"found": 0}
    assert bc.read_counts(tmp_path / "criteria.json") == doc["summary"]
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"


def test_html_layout_shows_counts_badges_and_meanings(tmp_path):
    recs = bc.evaluate(CLAIMS, 2.0, 1.0)
    page = bc.write_claims_html(recs, tmp_path / "claims.html", "Some claims").read_text()
    assert "1 pass · 0 fail · 1 not applicable · 2 error" in page
    assert page.count(">ERROR</span>") == 1 + 2  # the legend and two rows
    assert bc.STATUS_COLOURS["error"] in page and "KeyError: &#x27;y&#x27;" in page
    for meaning in bc.STATUS_MEANINGS.values():
        assert meaning in page


def test_counts_text():
    assert bc.counts_text({"pass": 3, "error": 1}) == "3 pass · 0 fail · 0 not applicable · 1 error"
    assert bc.counts([]) == {"pass": 0, "fail": 0, "not_applicable": 0, "error": 0}
