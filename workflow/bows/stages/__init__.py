"""Entry points of the analysis rules: one module per Snakemake rule (files in, tables out).

Each rule's script in ``workflow/scripts/`` calls one function here, so a rule's code hash (its script's import
closure, :mod:`bows.codehash`) takes in only the metric code that rule runs:

=================  =====================================
rule               function
=================  =====================================
metrics_data       :func:`bows.stages.data.run_data`
metrics_subspace   :func:`bows.stages.subspace.run_subspace`
metrics_model      :func:`bows.stages.model.run_model`
metrics_months     :func:`bows.stages.months.run_months`
metrics_mechanism  :func:`bows.stages.mechanism.run_mechanism`
metrics_umap       :func:`bows.stages.umap.run_umap`
metrics_sweep      :func:`bows.stages.sweep.run_sweep`
metrics_criteria   :func:`bows.stages.criteria.run_criteria`
=================  =====================================

Each function checks its word lists against the vocabulary first (clear errors before expensive work), computes
with the pure functions of :mod:`bows.metrics`, and writes tidy tables (parquet + CSV + provenance sidecar).
"""
