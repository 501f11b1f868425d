"""The sharing rules' stage modules, one per rule (``bows.stage`` contract).

============  =======================================  =========================================================
rule          module                                   files
============  =======================================  =========================================================
export_model  :mod:`.export_model`                     a trained model + run.json → model.safetensors, config.json,
                                                       run.json in the export folder
export_grid   :mod:`.export_grid`                      the exported models, vocabulary, metric tables, criteria →
                                                       config.yaml, README.md (model card), ro-crate-metadata.json
import_model  :mod:`.import_model`                     an exported model + the run's vocabulary → the model in the
                                                       run's results tree (train.source)
============  =======================================  =========================================================

This package's ``__init__`` imports nothing, so that every stage's hash stays its own.
"""
