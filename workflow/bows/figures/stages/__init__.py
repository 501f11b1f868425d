"""The figure stages: one module per figure rule, each with its contract (``STAGE``: the figures it writes and the
config sections it reads, ``figures`` and rarely more) and its entry point ``run(job)``.

A figure stage reads its input tables, calls one figure function of :mod:`bows.figures` (tables in, Figure out) and
writes the figure in every configured format through :func:`bows.figures.drawing.draw`. Each module also has a
function with plain arguments (paths and settings) that does the same from a notebook or a test.

This package imports nothing, so that a figure job's code hash takes in only the figure modules it draws with, and
a stage module imports its figure code inside its functions: the rule files import every stage module (for its
``STAGE``) when the workflow is parsed, which must not load matplotlib.
"""
