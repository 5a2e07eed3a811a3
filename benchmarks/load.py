"""Benchmark 4 — loading the embedded model: first use (assemble the GGUF pieces, verify sha256, dequantize, save a safetensors copy,
load) vs cached (load the safetensors copy). Runs in fresh processes against a temporary cache folder, which is deleted afterwards
(needs ~2.5 GB free disk).

    python benchmarks/load.py [--model qwen2.5-coder-0.5b-instruct] [--repeats 2]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(__file__))
from _common import header, table, verdict


def child(name):
    import time
    t0 = time.perf_counter()
    from cna_nb.models import load_model
    t1 = time.perf_counter(); model, tok = load_model(name, dtype=os.environ.get('CNA_BENCH_DTYPE', 'float32')); t2 = time.perf_counter()
    print(json.dumps(dict(import_s=t1-t0, load_s=t2-t1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='qwen2.5-coder-0.5b-instruct')
    ap.add_argument('--repeats', type=int, default=2, help='cached loads to time')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    ap.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16', 'auto'], help='model dtype (benchmarks/dtype.py compares the two side by side)')
    a = ap.parse_args()
    os.environ['CNA_BENCH_DTYPE'] = a.dtype          # the children load in this dtype
    if a.child: return child(a.child)
    header(f"model load benchmark: {a.model} in {a.dtype}")
    d = tempfile.mkdtemp(prefix='cna_load_bench_')
    rows = []
    try:
        for i in range(1 + a.repeats):
            out = subprocess.run([sys.executable, __file__, '--child', a.model], capture_output=True, text=True, env={**os.environ, 'CNA_NB_CACHE': d})
            if out.returncode: sys.exit(out.stderr[-2000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(dict(load='first (GGUF → cache)' if i == 0 else f'cached #{i}', seconds=f"{r['load_s']:.1f}", **{'import cna_nb (s)': f"{r['import_s']:.1f}"}))
            print(f"  {rows[-1]['load']}: {r['load_s']:.1f}s", flush=True)
    finally: shutil.rmtree(d, ignore_errors=True)
    for r in rows: r['dtype'] = a.dtype
    print('\n' + table(rows, ['load', 'dtype', 'seconds', 'import cna_nb (s)']))
    worst = max(float(r['seconds']) for r in rows[1:])
    print('\n' + verdict('model load', [(f"cached load {worst:.1f}s ≤ 10s", worst <= 10)]))


if __name__ == '__main__': main()
