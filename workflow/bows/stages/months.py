"""Rule metrics_months: month rings (data and weights) and the seasonal words of the months model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..metrics import geometry as geo
from ..metrics import months as mon
from ..metrics.tables import Rows, save, spec_from_tag
from ..metrics.words import resolve_group, seasonal_words
from ..wordlists import word_lists
from .common import load_model

log = logging.getLogger("bows.metrics")


def run_months(
    model: str,
    vocab: str,
    data_ring: str | None,
    out: Mapping[str, str],
    analysis: Mapping[str, Any],
    tag: str,
    config: Mapping[str, Any] | None = None,
) -> None:
    """Ring table, seasonal-word table and month metrics of one model."""
    index, groups, W, _b = load_model(model, vocab, analysis)
    months = groups.get("Months") or resolve_group("Months", word_lists()["word_groups"]["Months"], index, strict=False)
    ring = mon.ring_table(W, months, pd.read_parquet(data_ring) if data_ring else None)
    seas = [(w, s, index.lookup(w, case_insensitive=True)) for w, s in seasonal_words()]
    for w, _, i in seas:
        if i < 0:
            log.warning("seasonal word %r not in the vocabulary: reported as missing", w)
    table, met = mon.seasonal_table(W, months, seas)
    rows = Rows(spec_from_tag(tag))
    rows.add_many("Months", met)
    ok = months.found
    if ok.sum() >= 4:
        C = geo.cosine(W[:, months.indices[ok]].T)
        rows.add("Months", "mean_abs_cos", geo.mean_abs_offdiag(C))
        rows.add("Months", "adjacent_gt_opposite", geo.adjacent_vs_opposite(C))
    ins = {"model": model, "vocab": vocab}
    save(ring, out["ring"], config, ins)
    save(table, out["seasonal"], config, ins)
    save(rows.frame(), out["metrics"], config, ins)
