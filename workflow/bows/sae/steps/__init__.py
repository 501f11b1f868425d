"""The SAE stage's steps as functions of files, one module per workflow rule.

Each module states its rule's contract (``STAGE``: the files or tables it writes, the config it reads) and its entry
point ``run(job)``, which unpacks the job and calls the step's function. A rule's code hash (the import closure of its
module, :mod:`bows.codehash`) takes in only the module of its step and what that step runs: retraining never follows
a change of the scores, the claims or the plots, and a plotting change redraws the figures only.

===============  ====================================  ===================================================
rule             function                              files
===============  ====================================  ===================================================
sae_activations  :func:`.activations.make_activations` model file + docs + window index → activations.npz (h_train,
                                                       h_heldout, words, frequency, truth) + activations.json
sae_train        :func:`.train.train_sweep`            activations.npz → saes.pt of one architecture (every
                                                       width × sparsity) + history.json
sae_scores       :func:`.scores.score_model`           activations.npz + every saes.pt → scores, words, hedging
sae_summary      :func:`.summary.summarise`            every model's tables → tables, summary.json, claims
sae_figures      :mod:`bows.figures.stages.sae`        the summary tables → benchmark and recovery figures
===============  ====================================  ===================================================

This package's ``__init__`` imports nothing, so that every step's hash stays its own.
"""
