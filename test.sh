#!/usr/bin/env bash
# The whole test suite: every notebook through nbdev's runner, then tests/ and the doctests of cna_nb with pytest
# (pytest's summary line is the last line). Flagged heavy cells: add `--flags slow` to nbdev_test to run them too.
#   bash test.sh               everything, in the dtype `auto` picks on this machine (or the one CNA_NB_DTYPE forces)
#   bash test.sh equivalence   only the notebooks and tests whose checks depend on the model's dtype (CI runs this part a second
#                              time with CNA_NB_DTYPE=bfloat16, and with float32 where `auto` is bfloat16: see CONTRIBUTING.md)
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false
mode=${1:-all}
# The suite never writes into the user's cache: it runs with a temporary CNA_NB_CACHE (statistics, locks, anything a test builds land
# there and are deleted at the end), into which the models already built in the user's cache are linked for reading; and the user's
# cache must list the same files, with the same sizes, after the run as before it.
home_cache=${CNA_NB_CACHE:-$HOME/.cache/cna_nb}
export CNA_NB_CACHE=$(mktemp -d); trap 'rm -rf "$CNA_NB_CACHE"' EXIT     # rm -rf removes the links, never what they point to
unset CNA_NB_STATS_DIR
for m in "$home_cache"/*/; do [ -f "$m/config.json" ] && ln -s "${m%/}" "$CNA_NB_CACHE/$(basename "$m")"; done
ls "$CNA_NB_CACHE"/*/config.json >/dev/null 2>&1 || echo "test.sh: no built model in $home_cache: the embedded model will be built into the" \
  "suite's temporary cache (about a minute, discarded at the end); run 'bash setup.sh' once to keep it"
listing() { [ -d "$home_cache" ] && find "$home_cache" -printf '%P %y %s\n' | sort; true; }
before=$(listing)
check_home() { [ "$(listing)" = "$before" ] || { echo "the test suite changed $home_cache:"; diff <(echo "$before") <(listing) | head -20; exit 1; }; }
# A few notebooks per fresh process: most notebooks load the embedded model, and one long-lived runner held every notebook's copy at once
# (33 GB); one process per notebook paid ~5 s of imports 24 times. The notebooks without the embedded model share one process.
groups=(
  'nbs ^(00|00a|00b|00c|02|03a|03b|04|06|08|08a|08b|08c|09|09a|10|10a|10b|10c|11|11a|11b|13a|16a|16b|16c|16d|16e|16f|16g|17a|18|19)_.*\.ipynb$'
  'nbs ^(01|01a|03|05|05a)_.*\.ipynb$'  'nbs ^(07|07a|12)_.*\.ipynb$'  'nbs ^(13|16)_.*\.ipynb$'  'nbs ^(14|17)_.*\.ipynb$'  'nbs ^(15_.*|index|results)\.ipynb$'
  'nbs/tutorials ^(paper_reproduction|paper_scale)\.ipynb$'  'nbs/tutorials ^(refusal|your_own_behaviour|moe|model_organism)\.ipynb$'
)
# The dtype-dependent part: the notebooks that load the embedded model through `auto` and compare two computations of the same numbers
# (dtype, batched vs single capture and decoding, the runner's resume), and the tests of loading, forcing and the bfloat16 equivalences.
equivalence_groups=('nbs ^(01|01a|05|05a|12)_.*\.ipynb$')
equivalence_tests=(tests/test_models.py tests/test_architectures.py)
case "$mode" in
  all) ;;
  equivalence) groups=("${equivalence_groups[@]}") ;;
  *) echo "test.sh: unknown mode '$mode': use no argument (everything) or 'equivalence'"; exit 2 ;;
esac
echo "test.sh $mode: dtype auto = $(.venv/bin/python -c 'from cna_nb.models import resolve_dtype; print(str(resolve_dtype("auto")).split(".")[1])')" \
     "(CNA_NB_DTYPE=${CNA_NB_DTYPE:-unset}; CPU capability $(.venv/bin/python -c 'import torch; print(torch.backends.cpu.get_cpu_capability())'))"
seen=0
for g in "${groups[@]}"; do
  path=${g%% *}; re=${g#* }; t0=$(date +%s)
  .venv/bin/nbdev_test --path "$path" --file_re "$re" --n_workers 0 ${NBDEV_TEST_FLAGS:-} > /tmp/nbdev_test.$$.log 2>&1 || { cat /tmp/nbdev_test.$$.log; echo "FAILED: $path $re"; exit 1; }
  n=$(find "$path" -maxdepth 1 -name '*.ipynb' -printf '%f\n' | grep -cE "$re" || true); seen=$((seen + n))
  echo "ok $path $re ($n notebooks) $(( $(date +%s) - t0 ))s"
done
if [ "$mode" = equivalence ]; then
  .venv/bin/python -m pytest -q "${equivalence_tests[@]}" -p no:cacheprovider
  check_home; exit
fi
all=$(find nbs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' -not -name '_*' | wc -l)
[ "$seen" -eq "$all" ] || { echo "the notebook groups cover $seen of $all notebooks: add the new notebook to a group in test.sh"; exit 1; }
.venv/bin/python -m pytest -q tests cna_nb --doctest-modules -p no:cacheprovider --durations=8 || exit   # the 8 slowest tests listed
check_home
