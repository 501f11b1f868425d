"""Rule pca_model: the optimal linear autoencoder of the training windows as a model file (:mod:`bows.baselines`)."""

from __future__ import annotations

from ..stage import Job, Stage

# nothing of the config: the eigenvectors come in with the subspace file, the model's identity with the wildcards
STAGE = Stage(__name__, files=("model", "run"))


def run(job: Job) -> None:
    """Rule pca_model: the weights file and ``run.json`` of the pca model the wildcards name."""
    from ..baselines import write_pca_model  # torch: not when the workflow is parsed

    write_pca_model(subspace=job.input.subspace, model_out=job.output.model, run_out=job.output.run, spec=job.model)
