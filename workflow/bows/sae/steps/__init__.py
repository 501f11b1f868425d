"""The SAE stage's steps as functions of files, one module per workflow rule.

A rule's code hash (its script's import closure, :mod:`bows.codehash`) takes in only the module of its step and what
that step runs: retraining never follows a change of the scores, the claims or the plots, and a plotting change
redraws the figures only.

===============  ====================================  ===================================================
rule             function                              files
===============  ====================================  ===================================================
sae_activations  :func:`.activations.make_activations` model file + docs + window index → activations.npz (h_train,
                                                       h_heldout, words, frequency, truth) + activations.json
sae_train        :func:`.train.train_sweep`            activations.npz → saes.pt of one architecture (every
                                                       width × sparsity) + history.json
sae_scores       :func:`.scores.score_model`           activations.npz + every saes.pt → scores, words, hedging
sae_summary      :func:`.summary.summarise`            every model's tables → tables, summary.json, claims
sae_figures      :func:`.figures.draw_figures`         the summary tables → benchmark and recovery figures
===============  ====================================  ===================================================

This package's ``__init__`` imports nothing, so that every step's hash stays its own.
"""
