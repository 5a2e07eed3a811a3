"""Benchmark 3 — peak resident memory of discovery at 50, 200 and 800 prompts (half harmful, half benign), embedded 0.5B.

Each size runs in fresh processes (3 by default; the median is compared): load the model, warm it up on 2 full batches (weight pages resident, the allocator's heaps at their working size — without this the
smallest size, with only 4 batches, reads ~0.1 GB lower only because its heaps never reach their steady state), reset the kernel's peak-RSS mark (/proc/self/clear_refs), run `contrast`
(statistics cache off), read the peak (VmHWM). Capture streams float64 sums, so the peak must not grow with the number of prompts.
Prompts: AdvBench + HarmBench goals (harmful) and MMLU questions (benign) whose chat-formatted length is 38–50 tokens, longest first
(so every size has the same longest batch and only the count changes); size N uses the first N/2 of each side. The peak does depend on
the longest batch (activations of 16 × tokens): `--max-tokens 120` shows that effect.

    python benchmarks/memory.py [--sizes 50 200 800]
"""
import argparse, json, os, subprocess, sys
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict


def status_kb(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'): return int(line.split()[1])


def pool(tok, texts, lo, hi, n):
    from cna_nb.prompts import format_prompts, token_ids
    lens = [len(x) for x in token_ids(tok, format_prompts(tok, texts), special=False)]
    keep = sorted((i for i in range(len(texts)) if lo <= lens[i] <= hi), key=lambda i: (-lens[i], i))
    if len(keep) < n: sys.exit(f"only {len(keep)} prompts of {lo}-{hi} tokens, {n} needed: widen --max-tokens")
    return [texts[i] for i in keep[:n]]


def child(n, hi):
    os.environ['CNA_NB_STATS_CACHE'] = '0'
    from cna_nb.models import load_model
    from cna_nb.data import load_advbench, load_harmbench, load_mmlu
    from cna_nb.deltas import contrast
    from cna_nb.capture import capture
    model, tok = load_model(dtype=os.environ.get('CNA_BENCH_DTYPE', 'float32'))
    harm = pool(tok, list(load_advbench().goal) + load_harmbench(), 38, hi, n//2)
    benign = pool(tok, list(load_mmlu(subset=False).question.sample(frac=1, random_state=0)[:4000]), 38, hi, n//2)
    capture(model, tok, harm[:32], progress=False, cache=False)   # warm-up, 2 full batches: weight pages resident, allocator at its working size
    loaded = status_kb('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')     # reset the peak-RSS mark to the current RSS
    with Timer() as t: con = contrast(model, tok, harm, benign, progress=False)
    print(json.dumps(dict(n=len(harm) + len(benign), loaded_gb=loaded/2**20, peak_gb=status_kb('VmHWM')/2**20, seconds=t.s, k=len(con.circuit()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[50, 200, 800])
    ap.add_argument('--max-tokens', type=int, default=50, help='longest chat-formatted prompt allowed (tokens)')
    ap.add_argument('--repeats', type=int, default=3, help='fresh processes per size (the peak of a 2-thread forward pass is noisy by ~0.1 GB)')
    ap.add_argument('--arena-max', type=int, default=None, help='run the children with MALLOC_ARENA_MAX set (glibc per-thread heaps)')
    ap.add_argument('--child', type=int, help=argparse.SUPPRESS)
    ap.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16', 'auto'], help='model dtype (benchmarks/dtype.py compares the two side by side)')
    a = ap.parse_args()
    os.environ['CNA_BENCH_DTYPE'] = a.dtype          # the children load in this dtype
    if a.child: return child(a.child, a.max_tokens)
    header(f"discovery peak memory at {a.sizes} prompts of 38-{a.max_tokens} tokens, embedded 0.5B in {a.dtype}"
           + (f", MALLOC_ARENA_MAX={a.arena_max}" if a.arena_max else f", MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}"))
    import statistics
    rows = []
    for n in a.sizes:
        runs = []
        for rep in range(a.repeats):
            env = {**os.environ, **({'MALLOC_ARENA_MAX': str(a.arena_max)} if a.arena_max else {})}
            out = subprocess.run([sys.executable, __file__, '--child', str(n), '--max-tokens', str(a.max_tokens)], capture_output=True, text=True, env=env)
            if out.returncode: sys.exit(f"size {n} failed:\n{out.stderr[-2000:]}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {n} prompts, run {rep+1}: peak {runs[-1]['peak_gb']:.3f} GB in {runs[-1]['seconds']:.0f}s", flush=True)
        peaks = [r['peak_gb'] for r in runs]
        rows.append(dict(n=runs[0]['n'], loaded=statistics.median(r['loaded_gb'] for r in runs), peak=statistics.median(peaks),
                         lo=min(peaks), hi=max(peaks), seconds=statistics.median(r['seconds'] for r in runs)))
    base = rows[0]['peak']
    print('\n' + table([{'prompts': r['n'], 'dtype': a.dtype, 'RSS after warm-up (GB)': f"{r['loaded']:.3f}",
                          f'peak RSS, median of {a.repeats} (GB)': f"{r['peak']:.3f}", 'runs min–max (GB)': f"{r['lo']:.3f}–{r['hi']:.3f}",
                          'peak − warm (GB)': f"{r['peak']-r['loaded']:.3f}", f'vs {rows[0]["n"]} prompts': f"{r['peak']/base-1:+.1%}",
                          'seconds': f"{r['seconds']:.0f}"} for r in rows],
                       ['prompts', 'dtype', 'RSS after warm-up (GB)', f'peak RSS, median of {a.repeats} (GB)', 'runs min–max (GB)', 'peak − warm (GB)',
                        f'vs {rows[0]["n"]} prompts', 'seconds']))
    xs, ys = [r['n'] for r in rows], [r['peak'] for r in rows]
    mx, my = sum(xs)/len(xs), sum(ys)/len(ys)
    slope = sum((x-mx)*(y-my) for x, y in zip(xs, ys)) / max(sum((x-mx)**2 for x in xs), 1e-9)
    print(f"\nslope of the median peak: {1000*slope*100:+.1f} MB per 100 prompts (keeping every activation, as the reference does, costs "
          f"≈ prompts × tokens × layers × width × 4 bytes ≈ 2 GB per 100 prompts of 45 tokens on this model)")
    spread = max(abs(r['peak']/base - 1) for r in rows)
    print('\n' + verdict('discovery memory', [(f"median peak RSS within ±5% from {rows[0]['n']} to {rows[-1]['n']} prompts (max {spread:.1%})", spread <= 0.05)]))


if __name__ == '__main__': main()
