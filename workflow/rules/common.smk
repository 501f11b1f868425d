# Shared by every stage file. Config validation, the results tree, the training grid and target lists.
# Paths only; all logic lives in the bows library (workflow/bows).

import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))

import re

import bows.ablation as babl
import bows.codehash as codehash
import bows.config as bcfg
from bows.corpus import SPLITS as CORPUS_SPLITS
from bows.errors import BowsError
from bows.grid import VARIANTS
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
SPLITS = list(CORPUS_SPLITS)
RES = f"results/{CORPUS}"  # one corpus
VOC = f"{RES}/V{V}"  # vocabulary and documents as token ids
WIN = f"{RES}/V{V}_G{G}_S{S}"  # windows: virtual, so only their index and statistics
ENCODING = config["windows"]["encoding"]  # binary | counts: the models' input; binary paths carry no suffix
ENC = "" if ENCODING == "binary" else f"_{ENCODING}"
MODELS = f"{RES}/models/V{V}_G{G}_S{S}{ENC}"  # {variant}/L{latent}_wd{wd}_seed{seed}/{MODEL_FILE}
CKPTS = f"{RES}/checkpoints/V{V}_G{G}_S{S}{ENC}"  # resumable state, not tracked by Snakemake
METRICS = f"{RES}/metrics/V{V}_G{G}_S{S}{ENC}"
FIGS = f"{RES}/figures/V{V}_G{G}_S{S}{ENC}"
# Window sets: {wset} is "" for every training window (the paths above) or the suffix of the co-occurrence
# ablation's ablated and control sets (windows.exclude_cooccurrence, bows.ablation, docs/ablation.md). Rules that
# train or analyse any window set build their paths from these templates.
WINDOW_SETS = babl.window_set_suffixes(config["windows"]["exclude_cooccurrence"])  # full / ablated / control
WSET = "{wset}"
WIN_SET = f"{WIN}{WSET}"
MODELS_SET = f"{RES}/models/V{V}_G{G}_S{S}{WSET}{ENC}"
CKPTS_SET = f"{RES}/checkpoints/V{V}_G{G}_S{S}{WSET}{ENC}"
METRICS_SET = f"{RES}/metrics/V{V}_G{G}_S{S}{WSET}{ENC}"


wildcard_constraints:  # the group keeps the pattern non-empty: an empty one would mean "any non-empty text"
    wset="(?:" + "|".join(re.escape(s) for s in WINDOW_SETS.values()) + ")",


def for_set(template, suffix):
    """A window-set path template (WIN_SET, MODELS_SET, CKPTS_SET, METRICS_SET) filled in for one set's suffix."""
    return template.replace(WSET, suffix)


SYN = "results/synthetic"
LOGS = f"{RES}/logs"
BENCH = f"{RES}/benchmarks"  # benchmark: files of the heavy rules (wall time, peak memory)

MODEL_FILE = "model.safetensors"  # a trained model's weights (W, b and metadata), in every model folder
GRID = bcfg.model_grid(config)
MODEL_TAG = "{variant}/L{latent}_wd{wd}_seed{seed}"
SUBSPACE_K = bcfg.subspace_k(config)  # eigenvectors computed for the principal-subspace overlap


def _warn_low_exposure():
    """One warning at start naming the wd > 0 models whose decay exposure E = wd · Σ lr_t is below 1 (needs the
    window index, so from the second run of a fresh clone on; run.json, the train log and the report's exposure
    table always carry E)."""
    import json
    from bows.exposure import low_exposure

    stats = Path(WIN) / "windows.json"
    if not stats.is_file():
        return
    n_train = json.loads(stats.read_text())["train_windows"]
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


def stage_figures(stage, stem, prefix="", suffix="", reports=None):
    """A stage's figure outputs in every configured format (bows.stage.Stage.figure_outputs). ``reports`` maps a
    figure to the report() keywords (caption, category, subcategory, labels) of its main format, which then goes
    into the report; the other formats are plain outputs."""
    outputs = stage.figure_outputs(stem, config["figures"]["formats"], prefix, suffix)
    for name, keywords in (reports or {}).items():
        outputs[name] = report(outputs[name], **keywords)
    return outputs


def main_figure(stage, stem, name, prefix="", suffix=""):
    """The path of figure ``name`` of a stage in the main format (the one the report shows)."""
    return stage.figure_outputs(stem, config["figures"]["formats"], prefix, suffix)[name]


def figure_paths(stage, stem, prefix="", suffix=""):
    """Every format's path of a stage's figures, for the targets (a suffix without wildcards)."""
    return list(stage.figure_outputs(stem, config["figures"]["formats"], prefix, suffix).values())


def section(*names):
    """Config sections a job depends on, as params (so a change reruns it)."""
    return {n: config[n] for n in names}


# The interactive explorers: a rule file that writes one (self-contained HTML, marked for the report) adds it here as
# label → path, e.g. EXPLORERS[spec.tag] = path; the report's front page (report.smk) links every one, whatever the
# order of the includes.
EXPLORERS = {}

# Each rule file adds its final outputs here; `all` and the named targets gather them.
TARGETS = {
    k: []
    for k in ("corpus", "vocab", "windows", "train", "metrics", "figures", "synthetic", "value_coding", "sae", "report")
}


# named targets that `all` leaves out: `snakemake export` publishes a grid on request only
ON_REQUEST = ("export",)


def all_targets():
    return [t for name, paths in TARGETS.items() if name not in ON_REQUEST for t in paths]
