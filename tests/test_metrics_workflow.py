"""The metrics stage inside the smoke workflow: every table and criteria.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

METRICS = "results/smoke/metrics/V400_G5_S1"


def test_metrics_tables_and_criteria(smoke_run):
    m = smoke_run / METRICS
    for name in (
        "data/cooc",
        "data/ring",
        "data/metrics",
        "months/ring",
        "months/seasonal",
        "mechanism/r2",
        "mechanism/r2_gap",
        "mechanism/towers",
        "mechanism/months_r2",
        "metrics_all",
        "sweep",
        "sweep_summary",
        "losses",
        "loss_fit",
        "clusters",
    ):
        assert (m / f"{name}.parquet").is_file() and (m / f"{name}.csv").is_file(), name
    allm = pd.read_parquet(m / "metrics_all.parquet")
    assert {"d_star", "phi_half", "msq_welch", "erank", "offdiag_raw", "order_agreement_p"} <= set(allm["metric"])
    crit = json.loads((m / "criteria.json").read_text())
    assert [c["id"] for c in crit["criteria"]] == list(range(1, 18))
    assert crit["criteria"][0]["status"] == "pass"  # vocabulary integrity holds on any corpus
    assert crit["criteria"][1]["status"] == "pass"  # window counts
    for c in crit["criteria"]:
        if c["status"] == "not_applicable":
            assert c["reason"], c  # every undecided criterion says why
        else:
            assert c["status"] in ("pass", "fail") and c["value"] is not None, c
    assert crit["summary"]["error"] == 0  # statuses by hand: tests/test_workflow.py::test_smoke_criteria_statuses
    table = pd.read_parquet(m / "criteria.parquet")
    assert table["status"].tolist() == [c["status"] for c in crit["criteria"]]
    assert table["id"].tolist() == [str(i) for i in range(1, 18)]


def test_smoke_tables_agree_with_a_plain_recomputation(smoke_run):
    """The aggregates of the smoke run recomputed from the tables they come from, with numpy only: the loss power
    law (least squares on log final loss vs log L), the sweep means and SDs over seeds, and the data ring's adjacent
    months (angular neighbours about the centroid that are calendar neighbours)."""
    m = smoke_run / METRICS
    losses = pd.read_parquet(m / "losses.parquet")
    last = losses.loc[losses.groupby("model")["epoch"].idxmax()]
    fits = pd.read_parquet(m / "loss_fit.parquet")
    fitted = fits[fits["status"] == "ok"]
    assert len(fitted) >= 1
    for _, f in fitted.iterrows():
        g = last[(last["variant"] == f["variant"]) & np.isclose(last["wd"], f["wd"])]
        y = g["val_loss" if f["split"] == "val" else "train_loss"].to_numpy()
        slope, icpt = np.polyfit(np.log(g["latent"].to_numpy(float)), np.log(y), 1)
        assert f["n_models"] == len(g)
        assert f["exponent"] == pytest.approx(-slope, rel=1e-9, abs=1e-12)
        assert f["prefactor"] == pytest.approx(np.exp(icpt), rel=1e-9)
    allm = pd.read_parquet(m / "metrics_all.parquet")
    summ = pd.read_parquet(m / "sweep_summary.parquet").dropna(subset=["mean"])
    assert len(summ)
    for _, s in summ.iterrows():
        v = allm[
            (allm["variant"] == s["variant"])
            & np.isclose(allm["wd"].astype(float), s["wd"])
            & (allm["latent"] == s["latent"])
            & (allm["scope"] == s["group"])
            & (allm["metric"] == s["metric"])
        ]
        v = v["value"].dropna().to_numpy()
        assert s["n_seeds"] == len(v) and s["mean"] == pytest.approx(v.mean())
        if len(v) > 1:
            assert s["sd"] == pytest.approx(v.std(ddof=1))
    ring = pd.read_parquet(m / "data" / "ring.parquet")
    # the months that occur in the windows (a month in no window has no place on the ring), in calendar order
    months = ring[(ring["group"] == "Months") & (ring["status"] == "ok")].sort_values("pos")
    P = months[["pc1", "pc2"]].to_numpy(float)
    n = len(P)
    angle = np.arctan2(*(P - P.mean(0)).T[::-1])
    around = np.argsort(angle)  # calendar slots in angular order, as a cycle
    adjacent = sum(abs(int(a) - int(b)) in (1, n - 1) for a, b in zip(around, np.roll(around, -1)))
    data = pd.read_parquet(m / "data" / "metrics.parquet")
    got = data[(data["scope"] == "Months") & (data["metric"] == "ring_adjacent_pairs")]["value"].item()
    assert n >= 3 and got == adjacent
