"""Value-coding features (paper Table 1): known answers for every transformation, small end-to-end runs, and the
workflow's outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from bows import value_coding as vc
from bows.errors import ConfigError

# --------------------------------------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    "lat2, lon2, expect",
    [
        (10.0, 0.0, 0.0),  # due north
        (0.0, 10.0, 90.0),  # due east along the equator
        (-10.0, 0.0, 180.0),  # due south
        (0.0, -10.0, 270.0),  # due west
    ],
)
def test_bearing_of_the_cardinal_directions(lat2, lon2, expect):
    assert vc.bearing_degrees(0.0, 0.0, lat2, lon2) == pytest.approx(expect, abs=1e-9)


def test_bearing_follows_the_great_circle():
    # from 60°N going to a point due east on the same parallel, the great circle starts north of east
    b = float(vc.bearing_degrees(60.0, 0.0, 60.0, 40.0))
    assert 0.0 < b < 90.0 and b < 80.0
    # New York → London: about 51° (standard navigation value)
    assert float(vc.bearing_degrees(40.7128, -74.0060, 51.5074, -0.1278)) == pytest.approx(51.2, abs=0.5)


def test_compass_classes_are_45_degree_sectors_centred_on_the_points():
    b = np.array([0.0, 22.4, 22.5, 67.4, 67.5, 180.0, 337.4, 337.5, 359.9])
    assert vc.compass_class(b).tolist() == [0, 0, 1, 1, 2, 4, 7, 0, 0]


def test_pairs_never_pair_a_city_with_itself_and_follow_the_seed():
    i, j = vc.draw_pairs(3, 5000, seed=7)
    assert (i != j).all() and set(i) == {0, 1, 2} and set(j) == {0, 1, 2}
    i2, j2 = vc.draw_pairs(3, 5000, seed=7)
    assert np.array_equal(i, i2) and np.array_equal(j, j2)
    assert not np.array_equal(vc.draw_pairs(3, 5000, seed=8)[1], j)


# --------------------------------------------------------------------------------------------- subspaces


def test_orthonormal_basis_spans_the_rows_and_drops_null_ones():
    U = vc.orthonormal_basis(np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 3.0]]))
    assert U.shape == (3, 2)
    assert np.allclose(U.T @ U, np.eye(2))
    P = U @ U.T
    assert np.allclose(P @ np.array([1.0, 1.0, 5.0]), [1.0, 1.0, 5.0])  # in the span
    assert np.allclose(P @ np.array([1.0, -1.0, 0.0]), 0.0)  # orthogonal to it


def test_ablations_on_a_known_answer():
    U = np.array([[1.0], [0.0], [0.0]])  # the value space: the first axis
    all_emb = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 4.0]])
    Z = torch.tensor([[3.0, 0.0, 4.0]])
    assert torch.allclose(vc.ablate(Z, U, "drop"), torch.tensor([[0.0, 0.0, 4.0]]))
    assert torch.allclose(vc.ablate(Z, U, "drop_renorm"), torch.tensor([[0.0, 0.0, 5.0]]))  # ‖z‖ = 5 kept
    # keep: the value coordinate, plus the mean of the other coordinates over all embeddings: (1, 2)
    assert torch.allclose(vc.ablate(Z, U, "keep", all_emb), torch.tensor([[3.0, 1.0, 2.0]]))
    assert torch.equal(vc.ablate(Z, U, "none"), Z)
    with pytest.raises(ValueError):
        vc.ablate(Z, U, "keep")


def test_fourier_power_and_key_frequencies_find_the_planted_frequencies():
    p = 31
    a = np.arange(p)
    rng = np.random.default_rng(0)
    # an embedding whose rows trace two frequencies (3 and 7) in four of its ten dimensions, plus small noise
    E = np.zeros((p, 10))
    E[:, 0], E[:, 1] = np.cos(2 * np.pi * 3 * a / p), np.sin(2 * np.pi * 3 * a / p)
    E[:, 2], E[:, 3] = 0.8 * np.cos(2 * np.pi * 7 * a / p), 0.8 * np.sin(2 * np.pi * 7 * a / p)
    E += 0.01 * rng.standard_normal(E.shape) + 5.0  # a constant offset: not a frequency
    power = vc.fourier_power(E)
    assert power.shape == (p // 2 + 1,) and power[0] == pytest.approx(0.0, abs=1e-9)
    assert vc.key_frequencies(power, 0.95) == [3, 7]
    assert vc.key_frequencies(power, 0.5) == [3]
    assert vc.key_frequencies(power, 0.95, max_keys=1) == [3]
    U = vc.fourier_basis(E, [3, 7])
    assert U.shape == (10, 4) and np.allclose(U.T @ U, np.eye(4))
    # the basis lies (up to the noise) in the first four dimensions
    assert np.abs(U[4:]).max() < 0.05


def test_probe_split_holds_out_the_biggest_cities_and_a_share_of_the_rest():
    pop = np.arange(100)[::-1] * 10 + 1
    held = vc.probe_split(pop, top=5, fraction=0.3, seed=1)
    assert held[:5].all()  # the five most populous
    assert held.sum() == 5 + int(0.3 * 95)
    assert np.array_equal(held, vc.probe_split(pop, top=5, fraction=0.3, seed=1))


# --------------------------------------------------------------------------------------------- data


def test_the_bundled_city_table_is_located_by_metadata_and_filtered_strictly():
    cities = vc.load_cities(50000)
    raw = json.loads(vc.city_file().read_text(encoding="utf-8"))
    expect = sum(1 for c in raw.values() if c["countrycode"] == "US" and c["population"] > 50000)
    assert len(cities) == expect > 500
    assert (cities["population"] > 50000).all()
    assert cities["geonameid"].is_monotonic_increasing
    assert cities["lat"].between(15, 72).all() and cities["lon"].between(-180, -60).all()


def test_too_few_cities_is_a_config_error(tmp_path):
    path = tmp_path / "cities.json"
    path.write_text(
        json.dumps(
            {
                "1": {
                    "geonameid": 1,
                    "name": "A",
                    "latitude": 1,
                    "longitude": 2,
                    "countrycode": "US",
                    "population": 10**6,
                }
            }
        )
    )
    with pytest.raises(ConfigError, match="min_population"):
        vc.load_cities(50000, path=path)


# --------------------------------------------------------------------------------------------- small runs


def test_modular_addition_end_to_end_learns_and_its_value_space_matters(tmp_path):
    cfg = dict(
        modulus=47,
        train_fraction=0.7,
        embed=64,
        hidden=128,
        steps=1500,
        lr=3e-3,
        weight_decay=2.0,
        betas=[0.9, 0.98],
        power_share=0.9,
        max_keys=None,
        seed=3,
    )
    out = vc.run_modular(cfg, str(tmp_path / "m.json"), str(tmp_path / "power"), threads=1)
    res = out["results"]
    assert out["train_accuracy"] == 100.0
    assert res["baseline"]["accuracy"] > 90.0  # generalises to unseen sums
    assert res["drop"]["accuracy"] < res["baseline"]["accuracy"] - 50  # removing the key frequencies breaks it
    assert out["value_space_dim"] == 2 * len(out["key_frequencies"])
    power = pd.read_parquet(tmp_path / "power.parquet")
    check_key_frequencies(power, out)
    assert power["share"].iloc[1:].sum() == pytest.approx(1.0)
    assert (tmp_path / "power.parquet.prov.json").is_file()
    again = vc.run_modular(cfg, str(tmp_path / "m2.json"), str(tmp_path / "power2"), threads=1)
    assert again["results"] == res  # the seed fixes everything


def test_city_map_end_to_end_small(tmp_path):
    cfg = dict(
        country="US",
        min_population=200000,
        train_pairs=30000,
        val_pairs=5000,
        embed=16,
        hidden=64,
        epochs=3,
        batch_size=512,
        lr=3e-3,
        weight_decay=0.0,
        seed=1,
        probe_alpha=1e-3,
        probe_top=5,
        probe_fraction=0.3,
    )
    out = vc.run_city(cfg, str(tmp_path / "c.json"), str(tmp_path / "cities"), threads=1)
    res = out["results"]
    assert res["baseline"]["accuracy"] > 40.0  # far above the 12.5 % of chance
    assert out["value_space_dim"] == 2
    assert res["drop"]["accuracy"] < res["baseline"]["accuracy"]
    assert set(res) == {"baseline", "keep", "drop", "drop_renorm"}
    cities = pd.read_parquet(tmp_path / "cities.parquet")
    assert len(cities) == out["cities"] and set(cities["probe_split"]) == {"fit", "held-out"}
    assert (cities["probe_split"] == "held-out").sum() == out["probe_heldout_cities"]
    assert out["probe_r2_heldout"] == pytest.approx(heldout_r2(cities))


def check_key_frequencies(power: pd.DataFrame, out: dict) -> None:
    """The key frequencies are the fewest, by decreasing power, whose power reaches ``power_share`` of the total
    (at most ``max_keys``), recomputed from the power table; the table marks them and the summary gives their share."""
    p = power["power"].to_numpy()[1:]
    by_power = np.argsort(-p, kind="stable")
    n_keys = int(np.argmax(np.cumsum(p[by_power]) >= out["config"]["power_share"] * p.sum() - 1e-12)) + 1
    if out["config"].get("max_keys"):
        n_keys = min(n_keys, int(out["config"]["max_keys"]))
    assert out["key_frequencies"] == sorted(int(k) + 1 for k in by_power[:n_keys])
    assert power.loc[power["key"], "frequency"].tolist() == out["key_frequencies"]
    assert out["key_power_share"] == pytest.approx(p[by_power[:n_keys]].sum() / p.sum())
    assert power["power"].iloc[0] == pytest.approx(0.0, abs=1e-9 * p.sum())  # the mean is removed first


def heldout_r2(cities: pd.DataFrame) -> dict[str, float]:
    """R² = 1 − SS_res/SS_tot of the probe's (lat, lon) on the held-out cities, recomputed from the city table; the
    mean is the average of the two coordinates' R²."""
    held = cities[cities["probe_split"] == "held-out"]
    r2 = {}
    for c in ("lat", "lon"):
        y, pred = held[c].to_numpy(), held[f"pred_{c}"].to_numpy()
        r2[c] = 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    return {**r2, "mean": (r2["lat"] + r2["lon"]) / 2}


def test_table1_puts_ours_beside_the_paper(tmp_path):
    res = {
        c: {"loss": float(k), "accuracy": 10.0 * k} for k, c in enumerate(("baseline", "keep", "drop", "drop_renorm"))
    }
    for name in ("city", "mod"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"results": res}))
    df = vc.table1(
        str(tmp_path / "city.json"), str(tmp_path / "mod.json"), str(tmp_path / "t"), str(tmp_path / "t.html")
    )
    assert len(df) == 8 and set(df["task"]) == {"city_map", "modular_addition"}
    row = df[(df["task"] == "city_map") & (df["condition"] == "keep")].iloc[0]
    assert row["accuracy"] == 10.0 and row["paper_accuracy"] == vc.PAPER_TABLE1["city_map"]["keep"][1]
    assert "<table" in (tmp_path / "t.html").read_text()
    csv = pd.read_csv(tmp_path / "t.csv")  # the same eight rows: our numbers as written, the paper's beside them
    assert csv["accuracy"].tolist() == [0.0, 10.0, 20.0, 30.0] * 2 and csv["loss"].tolist() == [0.0, 1.0, 2.0, 3.0] * 2
    keep = csv[csv["condition"] == "keep"].set_index("task")
    assert keep.loc["modular_addition", "paper_loss"] == vc.PAPER_TABLE1["modular_addition"]["keep"][0]
    assert (tmp_path / "t.html.prov.json").is_file()


# --------------------------------------------------------------------------------------------- the workflow


@pytest.mark.workflow
def test_smoke_run_writes_the_value_coding_outputs(smoke_run):
    base = smoke_run / "results" / "value_coding"
    table = pd.read_csv(base / "table1.csv")
    assert set(table["condition"]) == {"baseline", "keep", "drop", "drop_renorm"}
    city = json.loads((base / "city_map.json").read_text())
    assert city["train_pairs"] == 20000 and city["cities"] > 500
    mod = json.loads((base / "modular_addition.json").read_text())
    assert mod["modulus"] == 47 and mod["redesign"] is True
    # the probe's held-out R² recomputed from the city table; the key frequencies are the fewest, by decreasing
    # power, that reach the configured share of the power table
    cities = pd.read_parquet(base / "city_map_cities.parquet")
    assert city["probe_r2_heldout"] == pytest.approx(heldout_r2(cities))
    check_key_frequencies(pd.read_parquet(base / "modular_addition_fourier.parquet"), mod)
    from matplotlib.image import imread

    for fig in ("city_map_probe", "modular_fourier"):  # a drawn picture, not a blank page
        img = imread(base / "figures" / f"{fig}.png")
        ink = (img[..., :3].min(-1) < 0.9).mean()  # share of pixels that are not (near) white
        assert img.ndim == 3 and ink > 0.02 and img[..., :3].std() > 0.05, fig
