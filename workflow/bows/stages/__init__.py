"""Stage modules: one per Snakemake rule, each stating the rule's contract (:mod:`bows.stage`).

A stage module declares ``STAGE`` (the tables or files it writes, the config sections it reads) and ``run(job)``,
which the one adapter ``workflow/scripts/stage.py`` calls; the rule builds its outputs from ``STAGE`` and its params
with ``stage_params`` (``common.smk``), so a rule's code hash is its stage module's import closure
(:func:`bows.codehash.stage_hash`) and takes in only the code that rule runs:

=================  ==============================  ==========================================
rule               stage                           library function
=================  ==============================  ==========================================
prepare_corpus     :mod:`bows.stages.corpus`       :func:`bows.corpus.prepare_corpus`
build_vocab        :mod:`bows.stages.vocab`        :func:`bows.vocab.build_vocab`
encode_docs        :mod:`bows.stages.encode`       :func:`bows.encode.encode_docs`
index_windows      :mod:`bows.stages.windows`      :func:`bows.windows.index_windows`
pca_model          :mod:`bows.stages.pca`          :func:`bows.baselines.write_pca_model`
metrics_data       :mod:`bows.stages.data`         :func:`bows.stages.data.run_data`
metrics_subspace   :mod:`bows.stages.subspace`     :func:`bows.stages.subspace.run_subspace`
metrics_model      :mod:`bows.stages.model`        :func:`bows.stages.model.run_model`
metrics_months     :mod:`bows.stages.months`       :func:`bows.stages.months.run_months`
metrics_mechanism  :mod:`bows.stages.mechanism`    :func:`bows.stages.mechanism.run_mechanism`
metrics_umap       :mod:`bows.stages.umap`         :func:`bows.stages.umap.run_umap`
metrics_sweep      :mod:`bows.stages.sweep`        :func:`bows.stages.sweep.run_sweep`
metrics_criteria   (its own script)                :func:`bows.stages.criteria.run_criteria`
=================  ==============================  ==========================================

The analysis functions check their word lists against the vocabulary first (clear errors before expensive work),
compute with the pure functions of :mod:`bows.metrics`, and write tidy tables (parquet + CSV + provenance sidecar
recording the stage's config sections). A stage's top level imports only light modules: the rule files import every
stage when the workflow is parsed, so torch, numba and scipy load inside the functions that use them.
"""
