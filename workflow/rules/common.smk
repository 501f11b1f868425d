# Shared by every stage file. Config validation, the results tree, the training grid and target lists.
# Paths only; all logic lives in the bows library (workflow/bows).

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

import bows.config as bcfg
from bows.errors import BowsError
from snakemake.exceptions import WorkflowError

try:
    bcfg.validate(config)  # Snakemake's validate() on workflow/schemas/config.schema.yaml, with defaults
    bcfg.check(config)
except BowsError as err:
    raise WorkflowError(f"bows: {err}") from None

# ----------------------------------------------------------------------------------------------- the results tree
CORPUS = config["corpus"]["name"]
V = config["vocab"]["size"]
G = config["windows"]["group_size"]
S = config["windows"]["stride"]
SPLITS = ["train", "validation", "test"]
RES = f"results/{CORPUS}"  # one corpus
VOC = f"{RES}/V{V}"  # vocabulary and documents as token ids
WIN = f"{RES}/V{V}_G{G}_S{S}"  # windows: virtual, so only their index and statistics
MODELS = f"{RES}/models/V{V}_G{G}_S{S}"  # {variant}/L{latent}_wd{wd}_seed{seed}/model.pt
CKPTS = f"{RES}/checkpoints/V{V}_G{G}_S{S}"  # resumable state, not tracked by Snakemake
METRICS = f"{RES}/metrics/V{V}_G{G}_S{S}"
FIGS = f"{RES}/figures/V{V}_G{G}_S{S}"
SYN = "results/synthetic"
LOGS = f"{RES}/logs"

GRID = bcfg.model_grid(config)
MODEL_TAG = "{variant}/L{latent}_wd{wd}_seed{seed}"



def model_path(spec, name="model.pt"):
    """Path of a trained model's file for a bows.config.ModelSpec."""
    return f"{MODELS}/{spec.tag}/{name}"


def grid_models(name="model.pt", **where):
    """Files of every grid model matching ``where`` (e.g. weight_decay=1.0, variant="relu")."""
    out = []
    for spec in GRID:
        if all(getattr(spec, k) == (float(v) if k == "weight_decay" else v) for k, v in where.items()):
            out.append(model_path(spec, name))
    return out


def ref_model(key, name="model.pt"):
    """The model an analysis names in analysis.models.<key>."""
    return model_path(bcfg.model_ref(config["analysis"]["models"][key]), name)


def code_hash(*files):
    """sha256 (16 hex) of code files under workflow/ (missing files hash as empty). Figure rules take it as a
    param, so a plotting-code change reruns exactly the figure jobs that run that code."""
    digest = hashlib.sha256()
    for rel in files:
        path = Path(workflow.basedir, "workflow", rel)
        digest.update(rel.encode() + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()[:16]


def section(*names):
    """Config sections a job depends on, as params (so a change reruns it)."""
    return {n: config[n] for n in names}


# Each rule file adds its final outputs here; `all` and the named targets gather them.
TARGETS = {k: [] for k in ("corpus", "vocab", "windows", "train", "metrics", "figures", "synthetic", "value_coding",
                           "sae", "report")}


def all_targets():
    return [t for paths in TARGETS.values() for t in paths]
