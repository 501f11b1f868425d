"""Sharing trained grids: an export folder to publish, loading one back, and starting a run from one.

- :mod:`.layout`: what an export folder holds and what each file is called.
- :mod:`.export`: writing it (safetensors weights and a ``config.json`` per model, the vocabulary, the metric tables
  and criteria, the run's config), :mod:`.card` its model card, :mod:`.crate` its RO-Crate.
- :mod:`.source`: finding an export (a folder or a Hugging Face hub repository), checking that it fits a run, and
  placing its models into the run's results tree (rule ``import_model``).
- :mod:`.load`: ``bows.load(path_or_repo_id)``, the models and vocabulary of an export in a notebook.

See docs/sharing.md.
"""
