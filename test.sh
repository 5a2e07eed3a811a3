#!/usr/bin/env bash
# The whole test suite: every notebook through nbdev's runner, then tests/ and the doctests of cna_nb with pytest
# (pytest's summary line is the last line). Flagged heavy cells: add `--flags slow` to nbdev_test to run them too.
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false
# one fresh process per notebook: most notebooks load the embedded model, and one long-lived runner would hold every copy at once
for nb in $(find nbs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' -not -name '_*' | sort); do
  t0=$(date +%s)
  .venv/bin/nbdev_test --path "$nb" --n_workers 0 ${NBDEV_TEST_FLAGS:-} > /tmp/nbdev_test.$$.log 2>&1 || { cat /tmp/nbdev_test.$$.log; echo "FAILED: $nb"; exit 1; }
  echo "ok $nb $(( $(date +%s) - t0 ))s"
done
.venv/bin/python -m pytest -q tests cna_nb --doctest-modules -p no:cacheprovider
