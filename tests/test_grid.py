"""Model identity: the variant list (bows.grid.VARIANTS) is the one the schema and the workflow name, and a model
crosses from the workflow's wildcards to the library as one ModelSpec that names the same folder."""

from __future__ import annotations

import copy
import re

import yaml
from bows.grid import BASELINE_VARIANTS, TRAINED_VARIANTS, VARIANTS, model_grid
from bows.schema import SCHEMA_PATH
from bows.stage import spec_from_wildcards
from conftest import ROOT
from snakemake.io import regex_from_filepattern, update_wildcard_constraints


def variant_enums(schema: dict) -> dict[str, list | None]:
    """Where → allowed values of every property named ``variant`` in a schema (a string's ``enum`` or an array's
    ``items.enum``; None when it lists none)."""
    found: dict[str, list | None] = {}

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and isinstance(properties.get("variant"), dict):
                prop = properties["variant"]
                found[f"{where}/variant"] = prop.get("enum", prop.get("items", {}).get("enum"))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for k, value in enumerate(node):
                walk(value, f"{where}/{k}")

    walk(schema, "")
    return found


def enums_unlike(enums: dict[str, list | None], variants: tuple[str, ...]) -> dict[str, list | None]:
    """The entries of :func:`variant_enums` that do not list exactly ``variants``, in that order."""
    return {where: enum for where, enum in enums.items() if enum is None or tuple(enum) != tuple(variants)}


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_the_variants_are_the_trained_ones_and_the_baselines():
    assert VARIANTS == ("relu", "linear", "pca")
    assert set(TRAINED_VARIANTS) | set(BASELINE_VARIANTS) == set(VARIANTS)
    assert not set(TRAINED_VARIANTS) & set(BASELINE_VARIANTS)


def test_every_variant_enum_of_the_schema_is_the_library_list():
    enums = variant_enums(_schema())
    # the grid blocks, the sweep models and every model reference (analysis.models, sae.models)
    assert len(enums) >= 3, enums
    assert enums_unlike(enums, VARIANTS) == {}


def test_a_planted_extra_or_missing_variant_is_found():
    schema = _schema()
    planted = copy.deepcopy(schema)
    grid_variant = planted["properties"]["train"]["properties"]["grid"]["items"]["properties"]["variant"]
    grid_variant["items"]["enum"].append("sparse")
    assert list(enums_unlike(variant_enums(planted), VARIANTS)) == ["/properties/train/properties/grid/items/variant"]
    dropped = copy.deepcopy(schema)
    ref = dropped["$defs"]["model_ref"]["properties"]["variant"]
    ref["enum"].remove("pca")
    assert list(enums_unlike(variant_enums(dropped), VARIANTS)) == ["/$defs/model_ref/variant"]
    ref.pop("enum")
    assert enums_unlike(variant_enums(dropped), VARIANTS) == {"/$defs/model_ref/variant": None}


def test_the_workflow_constrains_the_variant_wildcard_to_the_library_list():
    snakefile = (ROOT / "Snakefile").read_text()
    assert re.search(r'(?m)^    variant="\|"\.join\(VARIANTS\),$', snakefile), "variant wildcard not from VARIANTS"
    assert not re.search(r"relu\|linear", snakefile)


def workflow_model_pattern() -> re.Pattern:
    """The regex Snakemake matches a model folder with: common.smk's MODEL_TAG under the Snakefile's wildcard
    constraints (the variant from VARIANTS, the others as written there)."""
    tag = re.search(r'(?m)^MODEL_TAG = "(.+)"$', (ROOT / "workflow" / "rules" / "common.smk").read_text()).group(1)
    snakefile = (ROOT / "Snakefile").read_text()
    constraints = dict(re.findall(r'(?m)^    (latent|wd|seed)=r"(.+)",$', snakefile))
    assert set(constraints) == {"latent", "wd", "seed"}, constraints
    constraints["variant"] = "|".join(VARIANTS)
    return re.compile(regex_from_filepattern(update_wildcard_constraints(tag, constraints, {})))


def test_a_model_crosses_from_its_wildcards_as_the_spec_of_its_folder():
    config = {
        "train": {
            "grid": [
                {"variant": ["relu", "linear"], "latent": [4, 16], "weight_decay": [0.0, 1.0, 1e-05], "seed": [1]},
                {"variant": ["pca"], "latent": [8], "weight_decay": [0.0], "seed": [3]},
            ]
        }
    }
    grid = model_grid(config)
    assert len(grid) == 2 * 2 * 3 + 1
    pattern = workflow_model_pattern()
    for spec in grid:
        wildcards = pattern.match(spec.tag).groupdict()  # what Snakemake reads out of the model's folder
        assert spec_from_wildcards(wildcards) == spec
    assert pattern.match("sparse/L4_wd1.0_seed1") is None
    assert spec_from_wildcards({"split": "train"}) is None
