"""Rule metrics_months: month rings (data and weights) and the seasonal words of the months model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..grid import ModelSpec, model_ref
from ..metrics import geometry as geo
from ..metrics import months as mon
from ..metrics.tables import Rows, save
from ..metrics.words import resolve_group, seasonal_words
from ..stage import Job, Section, Stage
from ..wordlists import word_lists
from .common import load_model

log = logging.getLogger("bows.metrics")

# the analysis settings (thresholds only matter to the criteria; models names the months model)
STAGE = Stage(
    __name__,
    tables=("ring", "seasonal", "metrics"),
    sections=(Section("analysis", without=("thresholds",)),),
)


def run_months(
    model: str,
    vocab: str,
    data_ring: str | None,
    out: Mapping[str, str],
    spec: ModelSpec,
    config: Mapping[str, Any],
) -> None:
    """Ring table, seasonal-word table and month metrics of the model ``spec`` (file ``model``). ``config`` holds
    the ``analysis`` section (:data:`STAGE`; a whole validated config also serves)."""
    config = STAGE.config_slice(config)
    index, groups, W, _b = load_model(model, vocab, config["analysis"])
    months = groups.get("Months") or resolve_group("Months", word_lists()["word_groups"]["Months"], index, strict=False)
    ring = mon.ring_table(W, months, pd.read_parquet(data_ring) if data_ring else None)
    seasonal = [(word, season, index.lookup(word, case_insensitive=True)) for word, season in seasonal_words()]
    for word, _, i in seasonal:
        if i < 0:
            log.warning("seasonal word %r not in the vocabulary: reported as missing", word)
    table, values = mon.seasonal_table(W, months, seasonal)
    rows = Rows(spec)
    rows.add_many("Months", values)
    found = months.found
    if found.sum() >= 4:
        cosines = geo.cosine(W[:, months.indices[found]].T)
        rows.add("Months", "mean_abs_cos", geo.mean_abs_offdiag(cosines))
        rows.add("Months", "adjacent_gt_opposite", geo.adjacent_vs_opposite(cosines))
    inputs = {"model": model, "vocab": vocab}
    save(ring, out["ring"], config, inputs)
    save(table, out["seasonal"], config, inputs)
    save(rows.frame(), out["metrics"], config, inputs)


def run(job: Job) -> None:
    """Rule metrics_months: the month tables of ``analysis.models.months``."""
    run_months(
        model=job.input.model,
        vocab=job.input.vocab,
        data_ring=job.input.ring,
        out=job.tables(STAGE.tables),
        spec=model_ref(job.config["analysis"]["models"]["months"]),
        config=job.config,
    )
