#!/usr/bin/env bash
# The whole test suite: every notebook through nbdev's runner, then tests/ and the doctests of cna_nb with pytest
# (pytest's summary line is the last line). Flagged heavy cells: add `--flags slow` to nbdev_test to run them too.
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false
.venv/bin/nbdev_test --n_workers 1 ${NBDEV_TEST_FLAGS:-}
.venv/bin/python -m pytest -q tests cna_nb --doctest-modules -p no:cacheprovider
