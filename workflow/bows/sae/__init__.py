"""BOWS as a ground-truth benchmark for sparse autoencoders (SAEs) on real text.

A trained BOWS model's latent is h = W x = Σ_{i ∈ x} w_i: a sum of known word directions w_i (the columns of W) with
binary coefficients whose co-occurrence is that of the corpus. An SAE trained on these activations should recover the
w_i; how well, and how it fails on correlated words, is scored against that ground truth.

Modules (each small; none imports torch at import time except those that train):
    settings       the ``sae`` config section: resolved settings and the one-message validator
    activations    h = W x from the training / held-out windows at ``sae.group_size``, the true L0, word frequencies
    architectures  the SAEs (ReLU + L1, TopK, Matryoshka TopK) with unit-norm decoders; saving and loading
    training       the small trainer (Adam, held-out evaluation, history)
    scores         MCC, per-word best recovery, explained variance, L0, dead latents, hedging
    claims         the two SAE papers' claims as flags with values
    files          what the steps share: provenance parameters, reading the activations archive
    steps          the stage's steps as functions of files, one module per workflow rule (its code hash its own)
"""
