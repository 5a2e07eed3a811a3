"""Benchmark 9 — what `cna run` holds in memory and prints while loading (issue 42's quiet first run).

Runs `cna run` at its defaults (embedded 0.5B, the dtype `auto` picks here, warm model and statistics caches) in a child process,
into a fresh temporary folder, and reports the child's peak resident memory (the kernel's ru_maxrss of the waited-for child),
its wall time, the lines of its output that say a model loads (ours: "model … loaded in …"; transformers' "Loading weights"
bars), and whether the probe judge read with the model already in memory (one copy) — the last summary table is printed too.

    python benchmarks/run_memory.py [--limit 100]
"""
import argparse, os, re, resource, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(__file__))
from _common import header, table, verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--limit', type=int, default=100, help='JBB prompts (cna run --limit)')
    ap.add_argument('--target-gb', type=float, default=4.5, help='peak RSS target (issue 42: 4.5 GB in bfloat16)')
    a = ap.parse_args()
    header(__doc__.splitlines()[0])
    cna = os.path.join(os.path.dirname(sys.executable), 'cna')
    with tempfile.TemporaryDirectory() as out:
        t0 = time.time()
        p = subprocess.run([cna, 'run', '--limit', str(a.limit), '--out', out], capture_output=True, text=True,
                           env={**os.environ, 'HF_HUB_OFFLINE': '1'})
        wall = time.time() - t0
    if p.returncode: sys.exit(f"cna run failed ({p.returncode}):\n{p.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6            # kB -> GB
    text = (p.stdout + p.stderr).replace('\r', '\n')
    ours = [l for l in text.splitlines() if re.match(r'model \S+ \(\w+\) loaded in', l)]
    bars = len(re.findall(r'Loading weights', text))
    dtype = re.search(r'\((\w+)\) loaded in', ours[0]).group(1) if ours else '?'
    print(table([dict(command=f'cna run --limit {a.limit}', dtype=dtype, wall_s=f'{wall:.0f}', peak_rss_gb=f'{peak:.2f}',
                      loading_lines=len(ours), loading_weights_bars=bars)],
                ['command', 'dtype', 'wall_s', 'peak_rss_gb', 'loading_lines', 'loading_weights_bars']))
    print('\n'.join(l for l in p.stdout.splitlines() if l.strip()) + '\n')
    print(verdict('quiet run', [(f'one loading line ({len(ours)}), no library bars ({bars})', len(ours) == 1 and bars == 0),
                               (f'peak RSS {peak:.2f} GB ≤ {a.target_gb} GB (the target is for bfloat16; this run: {dtype})',
                                peak <= a.target_gb)]))


if __name__ == '__main__':
    main()
