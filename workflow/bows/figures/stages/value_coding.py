"""Rule fig_value_coding: the city map read back by the linear probe and the Fourier spectrum of the
modular-addition embedding (paper §1.2, Table 1; :mod:`bows.figures.value_coding`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ... import io
from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("city_map_probe", "modular_fourier"), sections=("figures",))


def run(job: Job) -> None:
    figures = job.config["figures"]
    draw_city_map(job.input.cities, job.input.city, figures, job.figure_paths("city_map_probe"))
    draw_fourier_spectrum(job.input.power, job.input.modular, figures, job.figure_paths("modular_fourier"))


def draw_city_map(
    cities: str | Path, summary: str | Path, figures: Mapping[str, Any], paths: Sequence[str | Path]
) -> list[Path]:
    """The probe's map of the ``cities`` table, titled with the held-out R² of the city-map ``summary`` JSON."""
    from ..drawing import draw
    from ..value_coding import city_map

    r2 = io.read_json(summary)["probe_r2_heldout"]["mean"]
    inputs = {"cities": str(cities), "summary": str(summary)}
    return draw(lambda: city_map(pd.read_parquet(cities), r2), "City map probe", paths, figures, inputs)


def draw_fourier_spectrum(
    power: str | Path, summary: str | Path, figures: Mapping[str, Any], paths: Sequence[str | Path]
) -> list[Path]:
    """The Fourier power of the ``power`` table, titled with the modulus of the modular-addition ``summary``."""
    from ..drawing import draw
    from ..value_coding import fourier_spectrum

    modulus = io.read_json(summary)["modulus"]
    inputs = {"power": str(power), "summary": str(summary)}
    return draw(lambda: fourier_spectrum(pd.read_parquet(power), modulus), "Modular addition", paths, figures, inputs)
