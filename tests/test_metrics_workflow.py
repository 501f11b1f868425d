"""The metrics stage inside the smoke workflow: every table and criteria.json."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

METRICS = "results/smoke/metrics/V400_G5_S1"


def test_metrics_tables_and_criteria(smoke_run):
    m = smoke_run / METRICS
    for name in ("data/cooc", "data/ring", "data/metrics", "months/ring", "months/seasonal", "mechanism/r2",
                 "mechanism/r2_gap", "mechanism/towers", "mechanism/months_r2", "metrics_all", "sweep",
                 "sweep_summary", "losses", "loss_fit", "clusters"):
        assert (m / f"{name}.parquet").is_file() and (m / f"{name}.csv").is_file(), name
    allm = pd.read_parquet(m / "metrics_all.parquet")
    assert {"d_star", "phi_half", "msq_welch", "erank", "offdiag_raw", "order_agreement_p"} <= set(allm["metric"])
    crit = json.loads((m / "criteria.json").read_text())
    assert [c["id"] for c in crit["criteria"]] == list(range(1, 18))
    assert crit["criteria"][0]["status"] == "pass"  # vocabulary integrity holds on any corpus
    assert crit["criteria"][1]["status"] == "pass"  # window counts
    for c in crit["criteria"]:
        if c["status"] == "not_applicable":
            assert c["details"].get("reason"), c  # every undecided criterion says why
        else:
            assert c["status"] in ("pass", "fail") and c["value"] is not None, c
    assert crit["summary"] == {s: sum(c["status"] == s for c in crit["criteria"])
                               for s in ("pass", "fail", "not_applicable")}

