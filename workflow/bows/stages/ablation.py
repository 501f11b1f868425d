"""Rule metrics_ablation: the co-occurrence ablation's table over the window sets and its criterion
(:mod:`bows.metrics.ablation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..stage import Job, Section, Stage

if TYPE_CHECKING:
    from ..claims import Record

# files: the table as HTML; the claims engine's table (claims.parquet, .csv), claims.json (the record, and the
# ablation table) and its HTML; ``this_run``: what the report's captions quote (key<TAB>text)
STAGE = Stage(
    __name__,
    tables=("summary",),
    files=("summary_html", "claims", "claims_csv", "claims_json", "claims_html", "this_run"),
    sections=(Section("analysis", only=("thresholds",)), Section("corpus", only=("name",))),
)


def run_ablation(
    windows: Mapping[str, str],
    data: Mapping[str, str],
    models: Mapping[tuple[str, str], str],
    word_groups: Mapping[str, Any],
    thresholds: Mapping[str, float],
    criterion_model: str,
    out_table: str,
    out_table_html: str,
    out_claims: str,
    out_html: str,
    out_this_run: str,
    corpus: str = "",
    config: Mapping[str, Any] | None = None,
) -> Record:
    """The table and the criterion from the window sets' ``windows.json`` (``windows``: set → path), data metric
    tables (``data``: set → path) and model metric tables (``models``: (set, tag) → path); ``word_groups``: the
    ablated groups' entries of ``analysis.word_groups``. Writes the table (parquet, CSV and ``out_table_html``), the
    claims as ``out_claims`` (the claims engine's stem: .parquet, .csv, and .json with the table beside the record),
    ``out_html`` and the captions' lines ``out_this_run``. Returns the record."""
    import pandas as pd

    from ..ablation import cyclic_groups
    from ..claims import json_clean, write_claims, write_claims_html
    from ..io import read_json, write_html_table, write_text
    from ..metrics.ablation import caption_lines, ring_survival, summary_table
    from ..metrics.tables import save

    stats = {wset: read_json(path) for wset, path in windows.items()}
    table = summary_table(
        stats,
        {wset: pd.read_parquet(path) for wset, path in data.items()},
        {key: pd.read_parquet(path) for key, path in models.items()},
        list(word_groups),
    )
    ablated = stats.get("ablated", {})
    scale = f"{corpus}, V={ablated.get('vocab_size')}, G={ablated.get('group_size')}".lstrip(", ")
    record = ring_survival(table, thresholds, criterion_model, cyclic_groups(list(word_groups), word_groups), scale)
    inputs = {"windows": list(windows.values()), "data": list(data.values()), "models": list(models.values())}
    save(table, out_table, config, inputs)
    write_html_table(table, out_table_html, "Co-occurrence ablation: windows and rings per window set")
    extra = {"table": json_clean(table.to_dict("records"))}
    write_claims([record], out_claims, config=config, inputs=inputs, extra=extra)
    write_claims_html([record], out_html, "Co-occurrence ablation")
    lines = caption_lines(table, record)
    write_text(out_this_run, "".join(f"{key}\t{text}\n" for key, text in [("key", "this_run"), *lines.items()]))
    return record


def _by_set(paths: Sequence[str], sets: Sequence[str]) -> dict[str, str]:
    return {wset: str(p) for wset, p in zip(sets, paths, strict=True)}


def run(job: Job) -> None:
    """The job's inputs are lists in the order of params ``window_sets`` (and ``model_tags`` within each set)."""
    sets, tags = list(job.params["window_sets"]), list(job.params["model_tags"])
    keys = [(wset, tag) for wset in sets for tag in tags]
    run_ablation(
        windows=_by_set(job.input.windows, sets),
        data=_by_set(job.input.data, sets),
        models={key: str(p) for key, p in zip(keys, job.input.models, strict=True)},
        word_groups=job.params["word_groups"],
        thresholds=job.config["analysis"]["thresholds"],
        criterion_model=tags[0],
        out_table=str(job.output.summary),
        out_table_html=str(job.output.summary_html),
        out_claims=str(job.output.claims),
        out_html=str(job.output.claims_html),
        out_this_run=str(job.output.this_run),
        corpus=job.config["corpus"]["name"],
        config=job.config,
    )
