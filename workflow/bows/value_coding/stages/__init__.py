"""The value-coding stages: one module per rule (the city map, modular addition, Table 1), each with its contract
``STAGE`` and ``run(job)``, which unpacks the job and calls the plain function of :mod:`..tasks`. ``run`` imports
it when it runs: value_coding.smk imports the stage modules for their ``STAGE`` when the workflow is parsed, which
must not load torch."""
