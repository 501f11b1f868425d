"""The synthetic branch's stages: one module per rule (data, training, metrics), each with its contract ``STAGE`` and
``run(job)``, which unpacks the job and calls the plain function of :mod:`..runs` or :mod:`..pipeline`.

Each reads the ``synthetic`` section resolved for the job's data variant (:func:`bows.synthetic.variants.variants`):
the rule passes that resolved section as the section's param. The figure stages are in :mod:`bows.figures.stages`.
This package imports nothing, so that each job's code hash takes in only what its stage runs.
"""
