"""Figures of the paper (and a few of ours), drawn from the metric tables.

Every figure function takes pandas DataFrames (or plain arrays) plus settings and returns a matplotlib
:class:`~matplotlib.figure.Figure`; it never reads or writes files. The adapter scripts under ``workflow/scripts``
read the tables, call one function and save the result with :func:`bows.figures.theme.save_figure`.

Modules:
    theme      one theme for every figure (:func:`apply_theme`), atomic PDF/PNG writer (:func:`save_figure`),
               and the "not available at this scale" panel (:func:`unavailable_figure`).
    months     month correlation matrix, data and weight PCA rings, months with seasonal words.
    structure  structure sweep (off-diagonal Gram norm vs latent size) and per-L group snapshots.
    umap       UMAP of semantic categories per model, with its legend.
    mechanism  R² bars, pre-activation density with the one-hot marker, contribution towers, Christmas vs months.
    sweeps     loss vs L per weight decay with the fitted exponent, feature dimensionality, circularity and
               cluster scores vs L and wd.
    criteria   the reproduction-criteria dashboard and the criteria table (rule fig_criteria).
    synthetic  Gram grids of the synthetic experiments.
"""

from .theme import apply_theme, save_figure, unavailable_figure

__all__ = ["apply_theme", "save_figure", "unavailable_figure"]
