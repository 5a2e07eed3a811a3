"""Benchmark — the two engines on the `cna run` workload (issue 41): the package's decoder ('hf') and vLLM ('vllm').

Runs `cna run` (embedded 0.5B, float32 pinned, 100 JBB prompts × 4 conditions, 48 new tokens at its defaults) once per
engine, each in a fresh process into a fresh folder, and reports: wall time of the whole command; the evaluation stage's
time (generation + the probe judge, from timings.json; for vLLM it includes starting the worker); replies per second of
that stage; the peak resident memory of the whole process tree (cna_nb and the vLLM worker, sampled every 0.2 s); and how
many replies of each condition are token-identical between the engines. The vLLM worker's start-up is timed on its own.

    python benchmarks/engines.py [--limit 100] [--max-new-tokens 48] [--out benchmarks/results/engines]
Threads: torch in cna_nb uses every core; vLLM's CPU backend binds its OpenMP threads itself (VLLM_CPU_OMP_THREADS_BIND,
default 'auto': one per core); set the variable to try another binding (it is recorded).
"""
import argparse, json, os, subprocess, sys, tempfile, threading, time
from pathlib import Path
sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, table
import pandas as pd


def tree_rss_gb(pid: int) -> float:
    "Resident memory of `pid` and all its descendants (GB), read from /proc."
    kids, total = {}, 0
    for d in Path('/proc').iterdir():
        if not d.name.isdigit(): continue
        try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
        except (OSError, IndexError, ValueError): pass
    todo = [pid]
    while todo:
        p = todo.pop()
        try: total += int((Path('/proc')/str(p)/'statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        except (OSError, IndexError, ValueError): pass
        todo += kids.get(p, [])
    return total / 1e9


def timed(cmd: list[str]) -> dict:
    "Run `cmd`; wall seconds and the peak RSS of its process tree."
    t0, peak = time.time(), [0.0]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    def watch():
        while p.poll() is None: peak[0] = max(peak[0], tree_rss_gb(p.pid)); time.sleep(0.2)
    w = threading.Thread(target=watch, daemon=True); w.start()
    out = p.communicate()[0]; w.join()
    if p.returncode: sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{out[-3000:]}")
    return dict(wall_s=round(time.time() - t0, 1), peak_gb=round(peak[0], 2), output=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--limit', type=int, default=100); ap.add_argument('--max-new-tokens', type=int, default=48)
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'engines')
    a = ap.parse_args()
    from cna_nb.engine import VLLMEngine, vllm_python
    from cna_nb.models import embedded_model_dir, DEFAULT_MODEL
    if vllm_python() is None: sys.exit("vLLM is not installed: bash setup.sh --vllm")
    cna, rows, replies = str(Path(sys.executable).with_name('cna')), [], {}
    t0 = time.time(); e = VLLMEngine(str(embedded_model_dir(DEFAULT_MODEL)), 'float32'); start = time.time() - t0
    info = e.info; e.close()
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ('hf', 'vllm'):
            d = Path(tmp)/engine
            r = timed([cna, 'run', '--engine', engine, '--dtype', 'float32', '--limit', str(a.limit),
                       '--max-new-tokens', str(a.max_new_tokens), '--out', str(d)])
            t = json.loads((d/'timings.json').read_text())
            df = pd.read_csv(d/'results.csv'); replies[engine] = df
            rows.append(dict(engine=engine, wall_s=r['wall_s'], evaluation_s=round(t['evaluation_s'], 1), replies=len(df),
                             replies_per_s=round(len(df) / t['evaluation_s'], 2), peak_gb=r['peak_gb']))
            print(f"{engine}: {rows[-1]}", flush=True)
    same = (replies['hf'].set_index(['condition', 'prompt']).reply == replies['vllm'].set_index(['condition', 'prompt']).reply)
    agree = same.groupby(level=0).agg(['sum', 'size']).rename(columns={'sum': 'identical', 'size': 'replies'})
    res = dict(machine=machine(), vllm=info, vllm_start_s=round(start, 1), workload=dict(limit=a.limit, tokens=a.max_new_tokens,
               dtype='float32'), omp_bind=os.environ.get('VLLM_CPU_OMP_THREADS_BIND', 'auto (default)'), rows=rows,
               identical=agree.reset_index().to_dict('records'))
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out/'cna_run.json').write_text(json.dumps(res, indent=1))
    print(res['machine']); print(f"vLLM {info['vllm']} (transformers {info['transformers']}), worker start-up {start:.0f} s")
    print(table(rows, list(rows[0]))); print(agree.to_string())


if __name__ == '__main__':
    main()
