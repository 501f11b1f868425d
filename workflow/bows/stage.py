"""A stage's contract, stated once: what it writes, which config it reads, and its one entry point.

Every rule of the workflow runs one stage. A stage module (``bows.stages.*``, ``bows.sae.steps.*``, ...) declares

    STAGE = Stage(__name__, tables=("ring", "metrics"), sections=(Section("analysis", without=("thresholds",)),))

    def run(job: Job) -> None: ...

and the rule builds its ``output:`` from ``STAGE`` (:meth:`Stage.table_outputs`, :meth:`Stage.figure_outputs`) and
its ``params:`` from ``stage_params`` in ``common.smk``: the module's name, the hash of the code it runs and the
config sections it declares, nothing else of the config. One adapter script (``workflow/scripts/stage.py``) turns
the Snakemake object into a :class:`Job` and calls ``run``; the job sees exactly the sections the params carry, so
what reruns a job and what the job reads are the same thing. A stage may also declare ``settings``: config it
reads that never changes its results (a training job's device, or how often it saves a checkpoint). They reach the
job as ``job.settings`` through a param Snakemake does not track, so changing them reruns nothing. A job of a rule
with the model wildcards (``variant``, ``latent``, ``wd``, ``seed``) gets them as one
:class:`~bows.grid.ModelSpec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .grid import ModelSpec

__all__ = ["Section", "Stage", "Job", "figure_formats", "RESERVED_PARAMS"]

# params every stage rule carries besides its config sections
RESERVED_PARAMS = ("stage", "code", "settings")


@dataclass(frozen=True)
class Section:
    """A config section a stage reads: all of it, only some keys, or all but some keys. Keys in ``omit_null`` are
    left out while null (so that adding such a key with a null default reruns nothing)."""

    name: str
    only: tuple[str, ...] | None = None
    without: tuple[str, ...] = ()
    omit_null: tuple[str, ...] = ()

    def take(self, config: Mapping[str, Any]) -> Any:
        value = config[self.name]
        if not isinstance(value, Mapping):
            return value
        keys = [k for k in value if (self.only is None or k in self.only) and k not in self.without]
        return {k: value[k] for k in keys if not (k in self.omit_null and value[k] is None)}


@dataclass(frozen=True)
class Stage:
    """What one rule's entry point writes and reads. ``module`` holds ``run(job)``; ``tables`` are tidy tables
    (parquet + CSV), ``figures`` figures (every configured format), ``files`` other named outputs."""

    module: str
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    sections: tuple[Section | str, ...] = ()
    settings: tuple[Section, ...] = ()

    @property
    def section_specs(self) -> tuple[Section, ...]:
        return tuple(s if isinstance(s, Section) else Section(s) for s in self.sections)

    def config_slice(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The declared sections of a validated config, as the rule's params carry them."""
        return {s.name: s.take(config) for s in self.section_specs}

    def settings_slice(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The declared settings of a validated config (``job.settings``; not a rerun trigger)."""
        return {s.name: s.take(config) for s in self.settings}

    def table_outputs(self, stem: str) -> dict[str, str]:
        """Named outputs of the stage's tables under ``stem``: ``name`` → parquet, ``name_csv`` → CSV."""
        return table_outputs(stem, self.tables)

    def file_outputs(self, **paths: Any) -> dict[str, Any]:
        """Named outputs of the stage's other files: the rule gives a path for each name of ``files`` (paths are the
        rule's business, names the stage's); a missing or unknown name fails when the workflow is parsed."""
        missing = [name for name in self.files if name not in paths]
        unknown = [name for name in paths if name not in self.files]
        if missing or unknown:
            raise ValueError(
                f"{self.module} writes the files {list(self.files)}; the rule gives "
                f"{list(paths)} (missing {missing}, unknown {unknown}): name each file once"
            )
        return {name: paths[name] for name in self.files}

    def figure_outputs(self, stem: str, formats: Sequence[str], prefix: str = "", suffix: str = "") -> dict[str, str]:
        """Named outputs of the stage's figures under ``stem``: ``name`` → the main format (the one the report
        shows), ``name_<fmt>`` → each other format. File names are ``{prefix}{name}{suffix}.{fmt}`` (a suffix
        such as ``_{target}`` names one figure per value of a wildcard)."""
        main, others = figure_formats(formats)
        out: dict[str, str] = {}
        for name in self.figures:
            out[name] = f"{stem}/{prefix}{name}{suffix}.{main}"
            out.update({f"{name}_{fmt}": f"{stem}/{prefix}{name}{suffix}.{fmt}" for fmt in others})
        return out


def table_outputs(stem: str, names: Sequence[str]) -> dict[str, str]:
    """``name`` → ``stem/name.parquet`` and ``name_csv`` → ``stem/name.csv`` for each table name."""
    out: dict[str, str] = {}
    for name in names:
        out[name] = f"{stem}/{name}.parquet"
        out[f"{name}_csv"] = f"{stem}/{name}.csv"
    return out


def figure_formats(formats: Sequence[str]) -> tuple[str, list[str]]:
    """(main format, other formats) of ``figures.formats``: PNG is the main one when configured (the report shows
    it), else the first."""
    formats = list(formats)
    if not formats:
        raise ValueError("figures.formats is empty; set it in the config (e.g. [pdf, png])")
    main = "png" if "png" in formats else formats[0]
    return main, [f for f in formats if f != main]


MODEL_WILDCARDS = ("variant", "latent", "wd", "seed")


def spec_from_wildcards(wildcards: Mapping[str, Any]) -> ModelSpec | None:
    """The model a job's wildcards name, or None when the rule has no model wildcards."""
    if not all(k in wildcards for k in MODEL_WILDCARDS):
        return None
    return ModelSpec(
        str(wildcards["variant"]), int(wildcards["latent"]), float(wildcards["wd"]), int(wildcards["seed"])
    )


@dataclass
class Job:
    """One run of a stage: the rule's named inputs and outputs as Snakemake gives them (attribute and key access,
    lists for list entries), the declared config sections, the model of the wildcards, and the job's resources.
    ``params`` holds the rule's other params (paths it does not track, such as a checkpoint folder); ``settings``
    the stage's declared settings."""

    input: Any
    output: Any
    config: dict[str, Any]
    model: ModelSpec | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    wildcards: Mapping[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    threads: int = 1
    log: Sequence[str] = ()
    rule: str = ""

    @classmethod
    def from_snakemake(cls, smk: Any, stage: Stage) -> Job:
        params = dict(smk.params.items())
        names = {s.name for s in stage.section_specs}
        config = {name: params[name] for name in names}
        extra = {k: v for k, v in params.items() if k not in names and k not in RESERVED_PARAMS}
        wildcards = dict(smk.wildcards.items())
        return cls(
            input=smk.input,
            output=smk.output,
            config=config,
            model=spec_from_wildcards(wildcards),
            settings=dict(params.get("settings") or {}),
            wildcards=wildcards,
            params=extra,
            threads=int(getattr(smk, "threads", 1) or 1),
            log=list(getattr(smk, "log", []) or []),
            rule=str(getattr(smk, "rule", "")),
        )

    def figure_paths(self, name: str) -> list[str]:
        """Every format's path of figure ``name`` (the main one first), from the outputs of
        :meth:`Stage.figure_outputs`."""
        outputs = {key: str(path) for key, path in self.output.items()}
        main = outputs[name]
        stem = main.rsplit(".", 1)[0]
        paths = [main] + [p for key, p in outputs.items() if key != name and p.rsplit(".", 1)[0] == stem]
        return paths

    def tables(self, names: Sequence[str]) -> dict[str, str]:
        """The parquet output of each named table (``save`` writes the CSV beside it)."""
        return {name: str(self.output[name]) for name in names}
