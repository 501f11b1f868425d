"""Stage modules: one per Snakemake rule, each stating the rule's contract (:mod:`bows.stage`).

A stage module declares ``STAGE`` (the tables or files it writes, the config sections it reads) and ``run(job)``,
which the one adapter ``workflow/scripts/stage.py`` calls; the rule builds its outputs from ``STAGE`` and its params
with ``stage_params`` (``common.smk``), so a rule's code hash is its stage module's import closure
(:func:`bows.codehash.stage_hash`) and takes in only the code that rule runs:

============================  ===================================  ===================================================
rule                          stage                                library function
============================  ===================================  ===================================================
prepare_corpus                :mod:`bows.stages.corpus`            :func:`bows.corpus.prepare_corpus`
build_vocab                   :mod:`bows.stages.vocab`             :func:`bows.vocab.build_vocab`
encode_docs                   :mod:`bows.stages.encode`            :func:`bows.encode.encode_docs`
index_windows                 :mod:`bows.stages.windows`           :func:`bows.windows.index_windows`
ablate_windows                :mod:`bows.stages.ablation_windows`  :func:`bows.ablation.ablate_windows`
train_model                   :mod:`bows.stages.train`             :func:`bows.train.train_model`
pca_model                     :mod:`bows.stages.pca`               :func:`bows.baselines.write_pca_model`
metrics_data                  :mod:`bows.stages.data`              :func:`bows.stages.data.run_data`
metrics_subspace              :mod:`bows.stages.subspace`          :func:`bows.stages.subspace.run_subspace`
metrics_model                 :mod:`bows.stages.model`             :func:`bows.stages.model.run_model`
metrics_months                :mod:`bows.stages.months`            :func:`bows.stages.months.run_months`
metrics_mechanism             :mod:`bows.stages.mechanism`         :func:`bows.stages.mechanism.run_mechanism`
metrics_umap                  :mod:`bows.stages.umap`              :func:`bows.stages.umap.run_umap`
metrics_sweep                 :mod:`bows.stages.sweep`             :func:`bows.stages.sweep.run_sweep`
metrics_criteria              :mod:`bows.stages.criteria`          :func:`bows.stages.criteria.run_criteria`
metrics_ablation              :mod:`bows.stages.ablation`          :func:`bows.stages.ablation.run_ablation`
fig_ablation                  :mod:`bows.stages.fig_ablation`      :func:`bows.stages.fig_ablation.draw_ablation`
metrics_dynamics              :mod:`bows.stages.dynamics`          :func:`bows.stages.dynamics.run_dynamics`
metrics_dynamics_all          :mod:`bows.stages.dynamics_summary`  :func:`bows.stages.dynamics_summary.run_summary`
fig_dynamics                  :mod:`bows.stages.dynamics_figure`   :func:`bows.stages.dynamics_figure.render_dynamics`
explorer_model                :mod:`bows.stages.explorer`          :func:`bows.stages.explorer.run_explorer`
references_*, fig_references  :mod:`bows.stages.references`        (one module per rule)
============================  ===================================  ===================================================

The analysis functions check their word lists against the vocabulary first (clear errors before expensive work),
compute with the pure functions of :mod:`bows.metrics`, and write tidy tables (parquet + CSV + provenance sidecar
recording the stage's config sections). A stage's top level imports only light modules: the rule files import every
stage when the workflow is parsed, so torch, numba and scipy load inside the functions that use them.
"""
