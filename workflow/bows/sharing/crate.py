"""The RO-Crate of an export (``ro-crate-metadata.json``, written with ro-crate-py): the run as a Workflow Run Crate.

The root dataset conforms to Process Run Crate 0.6, Workflow Run Crate 0.6 and Workflow RO-Crate (the library adds
the last when the workflow becomes the main entity). The main entity is the workflow's Snakefile (copied into the
folder with its rules and config schema); one ``CreateAction`` has it as instrument, the run's configuration and
inputs as object (the corpus splits and window index, described with their checksums: they stay in the run's
results tree) and every exported file as result. Each file carries its size and sha256; the software versions are
``SoftwareApplication`` entities that the workflow lists as its requirements.

:func:`check_crate` reads a crate back with the library and lists what breaks these rules (it is what the tests and
``bows.load`` use to validate an export).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..grid import ModelSpec
from ..io import file_sha256, package_versions, read_json, write_json
from . import layout

__all__ = ["PROFILES", "RUN_CONTEXT", "write_crate", "check_crate", "validate_crate", "crate_files"]

#: the Workflow Run RO-Crate profiles an export conforms to: permalink → (name, version)
PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.6": ("Process Run Crate", "0.6"),
    "https://w3id.org/ro/wfrun/workflow/0.6": ("Workflow Run Crate", "0.6"),
}
WROC_PREFIX = "https://w3id.org/workflowhub/workflow-ro-crate/"
RUN_CONTEXT = "https://w3id.org/ro/terms/workflow-run/context"

#: hub license ids → SPDX identifiers (others are described by name only)
SPDX = {
    "mit": "MIT",
    "apache-2.0": "Apache-2.0",
    "bsd-3-clause": "BSD-3-Clause",
    "cc0-1.0": "CC0-1.0",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-3.0": "CC-BY-SA-3.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
}

ENCODINGS = {
    ".safetensors": "application/octet-stream",
    ".json": "application/json",
    ".tsv": "text/tab-separated-values",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
    ".smk": "text/x-python",
    "": "text/x-python",  # the Snakefile
}


def crate_files(root: str | os.PathLike) -> list[str]:
    """Every file of an export folder except the crate's own metadata and hidden files (a download tool's cache
    folder), as sorted POSIX paths relative to it."""
    root = Path(root)
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and p.name != layout.CRATE
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _file_properties(root: Path, rel: str, name: str, description: str | None = None) -> dict[str, Any]:
    path = root / rel
    props: dict[str, Any] = {
        "name": name,
        "encodingFormat": ENCODINGS.get(path.suffix, "application/octet-stream"),
        "contentSize": str(path.stat().st_size),
        "sha256": file_sha256(path),
    }
    if description:
        props["description"] = description
    return props


def _describe(rel: str) -> tuple[str, str | None]:
    """(name, description) of an export file by its place in the layout."""
    name = rel.rsplit("/", 1)[-1]
    fixed = {
        layout.CARD: ("model card", "The grid, its criteria and decay exposure, and how to load it."),
        layout.RUN_CONFIG: ("configuration", "The run's configuration (the workflow's config file, merged)."),
        layout.VOCAB: ("vocabulary", "index, word, count, forced: column i of every W is word i."),
        layout.CRITERIA: ("reproduction criteria", "Each claim of the paper as a number with a threshold."),
    }
    if rel in fixed:
        return fixed[rel]
    if rel.startswith(f"{layout.TABLES_DIR}/"):
        return f"metric table {name}", "A tidy table (one row per model × item × metric)."
    if rel.startswith(f"{layout.WORKFLOW_DIR}/"):
        return name, "Part of the workflow definition that ran."
    folder = rel.rsplit("/", 1)[0]
    kinds = {
        layout.WEIGHTS: ("weights", "Tensors W [L, V] and b [V], float32."),
        layout.MODEL_CONFIG: ("settings", "What the model is, how it was trained and what came out."),
        layout.RUN: ("training record", "Per-epoch losses, timings, device and provenance, as training wrote them."),
    }
    kind, description = kinds.get(name, (name, None))
    return f"{folder} {kind}", description


def _software(crate, packages: Mapping[str, str | None], code: Mapping[str, Any]) -> list[Any]:
    from rocrate.model.contextentity import ContextEntity

    apps = []
    for name, version in sorted(packages.items()):
        if not version:
            continue
        if name == "bows":
            props: dict[str, Any] = {"@type": "SoftwareApplication", "name": "bows", "softwareVersion": version}
            if "git_commit" in code:
                props["identifier"] = f"git:{code['git_commit']}"
                props["description"] = (
                    "git commit " + code["git_commit"] + (" (with local changes)" if code["git_dirty"] else "")
                )
            apps.append(crate.add(ContextEntity(crate, "#bows", properties=props)))
            continue
        props = {
            "@type": "SoftwareApplication",
            "name": name,
            "softwareVersion": version,
            "url": f"https://pypi.org/project/{name}/",
        }
        apps.append(crate.add(ContextEntity(crate, f"https://pypi.org/project/{name}/{version}/", properties=props)))
    return apps


def _inputs(crate, config: Mapping[str, Any], source_files: Mapping[str, str | os.PathLike]) -> list[Any]:
    """The run's inputs outside the crate: the corpus and the files the models were computed from."""
    from rocrate.model.contextentity import ContextEntity

    from .card import corpus_description

    corpus = config["corpus"]
    props: dict[str, Any] = {"@type": "CreativeWork", "name": f"corpus {corpus['name']}"}
    props["description"] = f"The text: {corpus_description(config)}."
    if corpus["source"] == "hf":
        props["url"] = f"https://huggingface.co/datasets/{corpus['hf']['path']}"
    entities = [crate.add(ContextEntity(crate, "#corpus", properties=props))]
    for name, path in sorted(source_files.items()):
        path = Path(path)
        file_props: dict[str, Any] = {
            "@type": "File",
            "name": name,
            "alternateName": path.as_posix(),
            "description": "An input of the run, kept in its results tree (not in this crate).",
        }
        if path.is_file():
            file_props["contentSize"] = str(path.stat().st_size)
            file_props["sha256"] = file_sha256(path)
        entities.append(crate.add(ContextEntity(crate, f"#input/{name}", properties=file_props)))
    return entities


def _license(crate, license_id: str):
    from rocrate.model.contextentity import ContextEntity

    spdx = SPDX.get(license_id.lower())
    ident = f"https://spdx.org/licenses/{spdx}" if spdx else f"#license-{license_id}"
    props = {"@type": "CreativeWork", "name": spdx or license_id, "identifier": spdx or license_id}
    return crate.add(ContextEntity(crate, ident, properties=props))


def _run_times(root: Path, specs: Sequence[ModelSpec]) -> tuple[str | None, str]:
    """(start, end) of the run: the earliest model's provenance time, and now (the export completes the run)."""
    created = []
    for spec in specs:
        run = read_json(layout.model_dir(root, spec) / layout.RUN)
        prov = run["provenance"] if "provenance" in run else {}
        if "created" in prov:
            created.append(prov["created"])
    end = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (min(created) if created else None), end


def write_crate(
    root: str | os.PathLike,
    specs: Sequence[ModelSpec],
    config: Mapping[str, Any],
    workflow_files: Sequence[str],
    tables: Sequence[str],
    source_files: Mapping[str, str | os.PathLike],
) -> Path:
    """Write ``ro-crate-metadata.json`` of the export folder ``root`` (every other file must be written first)."""
    root = Path(root)
    files = crate_files(root)
    main_rel = f"{layout.WORKFLOW_DIR}/Snakefile"
    if main_rel not in files:
        raise ExportError(f"{root} lacks {main_rel}", "run snakemake export (it copies the workflow definition)")
    crate = _new_crate(config)
    workflow = _add_workflow(crate, root, main_rel)
    entities = {
        rel: crate.add_file(source=None, dest_path=rel, properties=_file_properties(root, rel, *_describe(rel)))
        for rel in files
        if rel != main_rel
    }
    workflow["hasPart"] = [entities[rel] for rel in entities if rel.startswith(f"{layout.WORKFLOW_DIR}/")]
    for spec in sorted(specs):
        folder = layout.model_dir(root, spec).relative_to(root).as_posix()
        parts = [entities[rel] for rel in entities if rel.startswith(f"{folder}/")]
        crate.add_dataset(source=None, dest_path=f"{folder}/", properties={"name": spec.tag, "hasPart": parts})
    _add_profiles(crate)
    _add_run(crate, workflow, entities, root, specs, config, tables, source_files)
    path = root / layout.CRATE
    write_json(path, crate.metadata.generate())
    return path


def _new_crate(config: Mapping[str, Any]) -> Any:
    """An empty crate with the export's name, description, licence, date, keywords and the run context."""
    from rocrate.rocrate import ROCrate

    from .card import export_title

    crate = ROCrate()
    crate.name = export_title(config)
    crate.description = (
        "Tied autoencoders trained on bag-of-words windows by the bows workflow, with their vocabulary, metric "
        "tables and reproduction criteria (see README.md)."
    )
    crate.license = _license(crate, config["export"]["license"])
    crate.datePublished = dt.datetime.now(dt.UTC).date().isoformat()
    crate.keywords = ["bows", "superposition", "interpretability", "tied autoencoder", "bag of words"]
    crate.metadata.extra_contexts.append(RUN_CONTEXT)
    return crate


def _add_workflow(crate: Any, root: Path, main_rel: str) -> Any:
    """The crate's main workflow (the copied Snakefile) with the software it requires."""
    from ..io import code_version

    packages = package_versions()
    workflow = crate.add_workflow(
        source=None,
        dest_path=main_rel,
        main=True,
        lang="snakemake",
        lang_version=packages["snakemake"],
        properties={
            **_file_properties(root, main_rel, "bows workflow", "The workflow that made the models and tables."),
            "version": packages["bows"],
        },
    )
    workflow["softwareRequirements"] = _software(crate, packages, code_version())
    return workflow


def _add_profiles(crate: Any) -> None:
    """The RO-Crate profiles the crate conforms to (:data:`PROFILES`)."""
    from rocrate.model.contextentity import ContextEntity

    for url, (name, version) in PROFILES.items():
        profile = crate.add(
            ContextEntity(crate, url, properties={"@type": "CreativeWork", "name": name, "version": version})
        )
        crate.root_dataset.append_to("conformsTo", profile)


def _add_run(
    crate: Any,
    workflow: Any,
    entities: Mapping[str, Any],
    root: Path,
    specs: Sequence[ModelSpec],
    config: Mapping[str, Any],
    tables: Sequence[str],
    source_files: Mapping[str, str | os.PathLike],
) -> None:
    """The run as a CreateAction of the workflow: the config and the inputs as its objects, every other exported
    file as its results, identified by a digest of their checksums."""
    from .card import export_title

    start, end = _run_times(root, specs)
    objects = [entities[layout.RUN_CONFIG], *_inputs(crate, config, source_files)]
    results = [
        entity
        for rel, entity in entities.items()
        if rel != layout.RUN_CONFIG and not rel.startswith(f"{layout.WORKFLOW_DIR}/")
    ]
    digest = hashlib.sha256("".join(e["sha256"] for e in results if e["sha256"]).encode()).hexdigest()
    models, metrics = ", ".join(s.tag for s in sorted(specs)), ", ".join(tables)
    properties: dict[str, Any] = {
        "@type": "CreateAction",
        "name": f"bows workflow run: {export_title(config)}",
        "description": f"snakemake export: {len(specs)} models ({models}), their metrics ({metrics}) and criteria",
        "endTime": end,
        "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
    }
    if start:
        properties["startTime"] = start
    action = crate.add_action(
        workflow, identifier=f"#run-{uuid.UUID(digest[:32])}", object=objects, result=results, properties=properties
    )
    crate.root_dataset.append_to("mentions", action)


def _ids(value: Any) -> list[str]:
    """The @id of each entity a property refers to (an entity, a {"@id"} dict, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None:
            continue
        out.append(item.id if hasattr(item, "id") else item["@id"] if isinstance(item, dict) else str(item))
    return out


def check_crate(root: str | os.PathLike) -> list[str]:
    """What is wrong with the RO-Crate of an export folder (empty: valid). Read with ro-crate-py; checks the
    profiles, the main workflow, the run's CreateAction, and that every file of the folder is listed with the size
    and sha256 it has."""
    from rocrate.rocrate import ROCrate

    root = Path(root)
    if not (root / layout.CRATE).is_file():
        return [f"no {layout.CRATE} in {root}"]
    try:
        crate = ROCrate(root)
    except Exception as err:  # the library's own parse errors, whatever their type
        return [f"ro-crate-py cannot read {root / layout.CRATE}: {err}"]
    problems: list[str] = []
    conforms = set(_ids(crate.root_dataset["conformsTo"]))
    for url, (name, _) in PROFILES.items():
        if url not in conforms:
            problems.append(f"the root dataset does not conform to {name} ({url})")
    if not any(c.startswith(WROC_PREFIX) for c in conforms):
        problems.append("the root dataset does not conform to Workflow RO-Crate")
    main = crate.mainEntity
    if main is None or "ComputationalWorkflow" not in main.type:
        problems.append("the main entity is not a ComputationalWorkflow")
    elif "snakemake" not in " ".join(_ids(main["programmingLanguage"])):
        problems.append("the main workflow's language is not Snakemake")
    actions = [a for a in crate.get_by_type("CreateAction")]
    mentioned = set(_ids(crate.root_dataset["mentions"]))
    if not actions:
        problems.append("no CreateAction describes the run")
    for action in actions:
        if action.id not in mentioned:
            problems.append(f"{action.id} is not among the root dataset's mentions")
        if main is None or _ids(action["instrument"]) != [main.id]:
            problems.append(f"{action.id}'s instrument is not the main workflow")
        for key in ("object", "result", "endTime"):
            if not action[key]:
                problems.append(f"{action.id} has no {key}")
        for ident in _ids(action["object"]) + _ids(action["result"]):
            if crate.get(ident) is None:
                problems.append(f"{action.id} refers to {ident}, which the crate does not describe")
    listed: set[str] = set()
    for entity in crate.data_entities:
        ident = entity.id
        if ident.startswith(("#", "http://", "https://")):
            continue
        path = root / ident
        if ident.endswith("/"):
            if not path.is_dir():
                problems.append(f"the crate lists the folder {ident}, which does not exist")
            continue
        listed.add(ident)
        if not path.is_file():
            problems.append(f"the crate lists {ident}, which does not exist")
            continue
        if entity["sha256"] != file_sha256(path):
            problems.append(f"{ident}: sha256 differs from the crate's")
        if str(entity["contentSize"]) != str(path.stat().st_size):
            problems.append(f"{ident}: size differs from the crate's")
    unlisted = sorted(set(crate_files(root)) - listed)
    if unlisted:
        problems.append(f"files not in the crate: {unlisted}")
    return problems


def validate_crate(root: str | os.PathLike) -> None:
    """Raise :class:`ExportError` listing what :func:`check_crate` finds wrong."""
    problems = check_crate(root)
    if problems:
        raise ExportError(
            f"the RO-Crate of {root} does not validate: " + "; ".join(problems),
            "export the grid again (snakemake export), or fetch the folder again if it was copied",
        )
