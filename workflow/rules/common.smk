# Shared by every stage file. Config validation, the results tree, the training grid and target lists.
# Paths only; all logic lives in the bows library (workflow/bows).

import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

import bows.codehash as codehash
import bows.config as bcfg
from bows.errors import BowsError
from snakemake.exceptions import WorkflowError

try:
    bcfg.validate(config)  # jsonschema on workflow/schemas/config.schema.yaml, with defaults
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
ENCODING = config["windows"]["encoding"]  # binary | counts: the models' input; binary paths carry no suffix
ENC = "" if ENCODING == "binary" else f"_{ENCODING}"
MODELS = f"{RES}/models/V{V}_G{G}_S{S}{ENC}"  # {variant}/L{latent}_wd{wd}_seed{seed}/{MODEL_FILE}
CKPTS = f"{RES}/checkpoints/V{V}_G{G}_S{S}{ENC}"  # resumable state, not tracked by Snakemake
METRICS = f"{RES}/metrics/V{V}_G{G}_S{S}{ENC}"
FIGS = f"{RES}/figures/V{V}_G{G}_S{S}{ENC}"
# the windows section without the encoding: what the window index and the data statistics depend on
WINDOWS_INDEX = {k: v for k, v in config["windows"].items() if k != "encoding"}
# what a trained model depends on (the encoding only when it is not the default, so binary models stay valid)
WINDOWS_TRAIN = {k: config["windows"][k] for k in ("group_size", "stride")} | (
    {"encoding": ENCODING} if ENCODING != "binary" else {}
)
SYN = "results/synthetic"
LOGS = f"{RES}/logs"
BENCH = f"{RES}/benchmarks"  # benchmark: files of the heavy rules (wall time, peak memory)

MODEL_FILE = "model.safetensors"  # a trained model's weights (W, b and metadata), in every model folder
GRID = bcfg.model_grid(config)
MODEL_TAG = "{variant}/L{latent}_wd{wd}_seed{seed}"
SUBSPACE_K = bcfg.subspace_k(config)  # eigenvectors computed for the principal-subspace overlap


def _warn_low_exposure():
    """One warning at start naming the wd > 0 models whose decay exposure E = wd · Σ lr_t is below 1 (needs the
    window index, so from the second run of a fresh clone on; run.json and the train log always carry E). Also
    leaves the exposures in config["_exposure"] for the report's front page (main process only, no rule reads it)."""
    import json
    from bows.exposure import exposure_summary, low_exposure

    stats = Path(WIN) / "windows.json"
    if not stats.is_file():
        return
    n_train = json.loads(stats.read_text())["train_windows"]
    config["_exposure"] = exposure_summary(GRID, config["train"], n_train)
    low = low_exposure(GRID, config["train"], n_train)
    if low:
        names = ", ".join(f"{tag} (E={e:.2g})" for tag, e in low)
        print(
            f"bows: warning: weight decay barely acts (decay exposure E = wd·Σlr < 1) for {names}; "
            "see docs/baselines.md",
            file=sys.stderr,
        )


if workflow.is_main_process:  # not again in every job's own process
    _warn_low_exposure()


def main_format(formats):
    """The figures' main format (into the report): PNG when configured, else the first of ``formats``."""
    return "png" if "png" in formats else formats[0]


def model_path(spec, name=MODEL_FILE):
    """Path of a trained model's file for a bows.config.ModelSpec."""
    return f"{MODELS}/{spec.tag}/{name}"


def ref_model(key, name=MODEL_FILE):
    """The model an analysis names in analysis.models.<key>."""
    return model_path(bcfg.model_ref(config["analysis"]["models"][key]), name)


def code_of(script):
    """Hash of a rule's script and the library code it imports (bows.codehash): every rule's params carry it, so a
    changed function reruns exactly the jobs whose scripts import its module; comments and docstrings do not count."""
    return codehash.code_hash(Path(workflow.basedir, "workflow", "scripts", script))


# ------------------------------------------------------------------------------------------------- stage rules
# A stage rule runs STAGE_SCRIPT, the one adapter; its stage module states the rule's contract (bows.stage.Stage).
STAGE_SCRIPT = "../scripts/stage.py"


def stage_params(stage, **extra):
    """A stage rule's params: the stage module, the hash of the code it runs (adapter and the module's import
    closure: a changed function reruns exactly the rules whose stages import it) and the config sections it
    declares (a change reruns it). ``extra``: params that are not config (untracked paths). The stage's settings
    (config that never changes its results) come as a function of the job's threads: Snakemake does not compare
    params derived from threads, input, output or resources between runs, so a change of them reruns nothing."""
    params = {
        "stage": stage.module,
        "code": codehash.stage_hash(stage.module),
        **stage.config_slice(config),
        **extra,
    }
    if stage.settings:
        params["settings"] = lambda wildcards, threads: stage.settings_slice(config)
    return params


def stage_figures(stage, stem, prefix=""):
    """A stage's figure outputs in every configured format (bows.stage.Stage.figure_outputs)."""
    return stage.figure_outputs(stem, config["figures"]["formats"], prefix)


def section(*names):
    """Config sections a job depends on, as params (so a change reruns it)."""
    return {n: config[n] for n in names}


# Each rule file adds its final outputs here; `all` and the named targets gather them.
TARGETS = {
    k: []
    for k in ("corpus", "vocab", "windows", "train", "metrics", "figures", "synthetic", "value_coding", "sae", "report")
}


def all_targets():
    return [t for paths in TARGETS.values() for t in paths]
