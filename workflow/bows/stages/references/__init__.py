"""The references stage's rules, one entry module each: ``lm`` and ``vectors`` (a reference's representations),
``data`` (the data's PPMI and phi rows), ``geometry`` (one geometry for every object), ``alignment`` (every object
against every reference layer), ``criteria`` (the references' claims) and ``figures`` (docs/references.md)."""
