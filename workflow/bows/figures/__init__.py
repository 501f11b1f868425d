"""Figures of the paper (and a few of ours), drawn from the metric tables.

A figure function takes pandas DataFrames (or plain arrays) plus settings and returns a matplotlib
:class:`~matplotlib.figure.Figure`, or raises :class:`~bows.figures.drawing.NotAvailable` with the reason it cannot be
drawn at this scale; it never reads or writes a file of the run. Reading and writing happen at the edges: every figure
rule runs a stage module of :mod:`bows.figures.stages`, which reads the rule's tables, calls one figure function and
writes the result in every configured format through :func:`bows.figures.drawing.draw` (theme, "not available"
figure, atomic writes, provenance sidecars). Keeping the figure functions free of files lets a test or a notebook
draw any figure from a DataFrame it built. Besides :mod:`.drawing`, two modules touch files on purpose:
:mod:`.report_tables` writes the report's tables, and :func:`.criteria.render_criteria` reads ``criteria.json`` and
writes the dashboard and the criteria table.

Modules:
    theme          one theme for every figure (:func:`apply_theme`), season colours, month names, model labels.
    drawing        :func:`draw` (the figure of a job, or the "not available at this scale" figure when the data
                   cannot support it), :func:`save_figure`, the not-available panel.
    latent_axes    the log latent-size axis, weight-decay colours and shared legend of the figures over the grid.
    months         month correlation matrix, data and weight PCA rings, months with seasonal words.
    structure      structure sweep (off-diagonal Gram norm vs latent size) and per-L group snapshots.
    umap           UMAP of semantic categories per model, with its legend.
    mechanism      R² bars, pre-activation density with the one-hot marker, contribution towers, Christmas vs months.
    sweeps         loss vs L per weight decay with the fitted exponent, feature dimensionality, circularity and
                   cluster scores vs L and wd.
    subspace       overlap of W's row space with the data's principal subspace against L.
    synthetic      Gram grids and metrics of the synthetic experiments.
    sae            the SAE benchmark and per-word recovery.
    value_coding   the city map read back by the probe, the modular-addition Fourier spectrum.
    criteria       the reproduction-criteria dashboard (and its table).
    report_tables  the metric tables of the report, written as CSV and HTML.
    stages         one stage module per figure rule (reads the tables, draws, saves).
"""

import importlib

#: public name → the module that defines it; modules load on first use, so that importing a figure stage (which
#: the rule files do when the workflow is parsed) does not load matplotlib
_EXPORTS = {
    **dict.fromkeys(("NotAvailable", "draw", "save_figure", "unavailable_figure"), "drawing"),
    "apply_theme": "theme",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
