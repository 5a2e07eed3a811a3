"""Benchmark — the two engines (issue 41): the package's decoder ('hf') and vLLM ('vllm'), on two workloads.

- `run`: `cna run` (embedded 0.5B, float32 pinned, 100 JBB prompts × 4 conditions, 48 new tokens at its defaults).
- `reproduce`: `cna reproduce --profile quick` (float32 pinned): every stage, its generation through the engine.

Each workload runs once per engine, each in a fresh process into a fresh folder, and reports: wall time of the whole command;
the generating stages' time (for `run` the evaluation stage of timings.json: generation + the probe judge, for vLLM including
the worker's start; for `reproduce` the stages of timings.jsonl that generate); replies per second over those stages; the peak
resident memory of the whole process tree (cna_nb and the vLLM worker, sampled every 0.2 s); how many replies are the same,
token for token, between the engines; and whether the tables (run: summary.csv; reproduce: every claim's measured value and
verdict in report.json) are equal. The vLLM worker's start-up is timed on its own.

    python benchmarks/engines.py [--workload run reproduce] [--limit 100] [--max-new-tokens 48] [--out benchmarks/results/engines]
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


def jsonl_replies(folder: Path) -> dict:
    "Every generated reply in `folder`'s JSONL files, keyed by (file, condition id, prompt hash)."
    out = {}
    for f in sorted(folder.glob('*.jsonl')):
        for line in f.read_text().splitlines():
            r = json.loads(line)
            if 'reply' in r: out[f.stem, r['condition_id'], r['prompt_hash']] = (r['condition'], r['reply'], r.get('verdict'))
    return out


def run_workload(cna: str, engine: str, d: Path, a, dtype: str='float32') -> tuple[dict, dict, object]:
    "`cna run` with `engine` into `d`: (row of figures, replies by key, the summary table)."
    r = timed([cna, 'run', '--engine', engine, '--dtype', dtype, '--limit', str(a.limit),
               '--max-new-tokens', str(a.max_new_tokens), '--out', str(d)])
    t, df = json.loads((d/'timings.json').read_text()), pd.read_csv(d/'results.csv')
    rep = {('replies', c, p): (n, x, v) for c, n, p, x, v in zip(df.condition_id, df.condition, df.prompt_hash, df.reply, df.verdict)}
    summ = pd.read_csv(d/'summary.csv').drop(columns=['engine'], errors='ignore')
    return (dict(workload='cna run' + ('' if dtype == 'float32' else f' ({dtype})'), engine=engine, dtype=dtype, wall_s=r['wall_s'], generating_s=round(t['evaluation_s'], 1),
                 replies=len(df), replies_per_s=round(len(df) / t['evaluation_s'], 2), peak_gb=r['peak_gb']), rep,
            summ.to_dict('records'))


def reproduce_workload(cna: str, engine: str, d: Path, a) -> tuple[dict, dict, object]:
    "`cna reproduce --profile quick` with `engine` into `d`: (row of figures, replies by key, the claims table)."
    r = timed([cna, 'reproduce', '--profile', 'quick', '--engine', engine, '--dtype', 'float32', '--out', str(d)])
    rep = jsonl_replies(d)
    stages = [json.loads(l) for l in (d/'timings.jsonl').read_text().splitlines()]
    gen = sum(x['seconds'] for x in stages if x.get('rows') and x['stage'] != 'mmlu')   # MMLU is scored by forward passes
    claims = [{k: c[k] for k in ('claim', 'measured', 'verdict')} for c in json.loads((d/'report.json').read_text())['claims']]
    return (dict(workload='cna reproduce --profile quick', engine=engine, dtype='float32', wall_s=r['wall_s'], generating_s=round(gen, 1),
                 replies=len(rep), replies_per_s=round(len(rep) / gen, 2), peak_gb=r['peak_gb']), rep, claims)


def threads_workload(a) -> list[dict]:
    """Generation alone, in this process, on the `run` workload's prompts (baseline, greedy): the package's decoder at its
    batch, and the vLLM worker under each thread setting tried. vLLM's in-process engine lowers torch to 1 thread for
    serving unless OMP_NUM_THREADS is set (its log says so); VLLM_CPU_OMP_THREADS_BIND binds the threads it keeps."""
    import torch
    from cna_nb.data import jbb_prompts
    from cna_nb.decoding import generate
    from cna_nb.defaults import RUN_BATCH
    from cna_nb.engine import VLLMEngine
    from cna_nb.models import load_model, embedded_model_dir, DEFAULT_MODEL
    from cna_nb.prompts import as_format, eos_ids
    model, tok = load_model(dtype='float32')
    prompts = jbb_prompts(a.limit); seqs = as_format(None).token_ids(tok, prompts)
    t0 = time.time(); generate(model, tok, prompts, max_new_tokens=a.max_new_tokens, batch_size=RUN_BATCH, progress=False)
    out = [dict(engine='hf', setting=f'torch {torch.get_num_threads()} threads, batch {RUN_BATCH}', start_s=0.0,
                generate_s=round(time.time() - t0, 1))]
    n = os.cpu_count()
    for setting, env in (('vLLM default', {}), (f'OMP_NUM_THREADS={n}', {'OMP_NUM_THREADS': str(n)}),
                         (f'OMP_NUM_THREADS={n}, VLLM_CPU_OMP_THREADS_BIND=nobind',
                          {'OMP_NUM_THREADS': str(n), 'VLLM_CPU_OMP_THREADS_BIND': 'nobind'})):
        old = {k: os.environ.get(k) for k in env}; os.environ.update(env)
        try:
            t0 = time.time(); e = VLLMEngine(str(embedded_model_dir(DEFAULT_MODEL)), 'float32'); start = time.time() - t0
            t0 = time.time(); e.generate(seqs, a.max_new_tokens, eos_ids(model, tok), []); gen = time.time() - t0; e.close()
        finally:
            for k, v in old.items():
                if v is None: os.environ.pop(k, None)
                else: os.environ[k] = v
        out.append(dict(engine='vllm', setting=setting, start_s=round(start, 1), generate_s=round(gen, 1)))
        print(out[-1], flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--workload', nargs='+', default=['threads', 'run', 'reproduce'], choices=['threads', 'run', 'reproduce', 'run_bf16'],
                    help='run_bf16: cna run in bfloat16 (not in the default: replies may part at near-ties, so verdicts are compared)')
    ap.add_argument('--limit', type=int, default=100); ap.add_argument('--max-new-tokens', type=int, default=48)
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'engines')
    a = ap.parse_args()
    from cna_nb.engine import VLLMEngine, vllm_python
    from cna_nb.models import embedded_model_dir, DEFAULT_MODEL
    if vllm_python() is None: sys.exit("vLLM is not installed: bash setup.sh --vllm")
    cna, rows, same = str(Path(sys.executable).with_name('cna')), [], []
    t0 = time.time(); e = VLLMEngine(str(embedded_model_dir(DEFAULT_MODEL)), 'float32'); start = time.time() - t0
    info = e.info; e.close()
    tables, threads = {}, (threads_workload(a) if 'threads' in a.workload else None)
    with tempfile.TemporaryDirectory() as tmp:
        for w in [w for w in a.workload if w != 'threads']:
            got = {}
            for engine in ('hf', 'vllm'):
                work = dict(run=run_workload, reproduce=reproduce_workload,
                            run_bf16=lambda *x: run_workload(*x, dtype='bfloat16'))[w]
                fig, rep, tab = work(cna, engine, Path(tmp)/w/engine, a)
                rows.append(fig); got[engine] = (rep, tab); print(fig, flush=True)
            (hf, th), (vl, tv) = got['hf'], got['vllm']
            if set(hf) != set(vl): sys.exit(f"{w}: the engines generated different sets of replies ({len(hf)} vs {len(vl)})")
            by = pd.DataFrame([dict(workload=w, file=k[0], condition=hf[k][0], identical=hf[k][1] == vl[k][1],
                                    same_verdict=hf[k][2] == vl[k][2]) for k in hf])
            same += by.groupby(['workload', 'file', 'condition'], sort=False).agg(
                identical=('identical', 'sum'), same_verdict=('same_verdict', 'sum'), replies=('identical', 'size')).reset_index(
                ).to_dict('records')
            tables[w] = dict(equal=th == tv, hf=th, vllm=tv)
    start = round(start, 1)
    res = dict(machine=machine(), vllm=info, vllm_start_s=[start],
               run_workload=dict(limit=a.limit, tokens=a.max_new_tokens),
               omp_bind=os.environ.get('VLLM_CPU_OMP_THREADS_BIND', 'auto (default)'), rows=rows, identical=same,
               tables_equal={w: t['equal'] for w, t in tables.items()}, tables=tables, threads=threads)
    a.out.mkdir(parents=True, exist_ok=True)
    f = a.out/'engines.json'                  # a subset of the workloads replaces only its own parts of an earlier file
    if set(a.workload) != {'threads', 'run', 'reproduce', 'run_bf16'} and f.exists():
        old = json.loads(f.read_text()); ran = {r['workload'] for r in rows}
        res['rows'] = [r for r in old['rows'] if r['workload'] not in ran] + rows
        res['identical'] = [r for r in old['identical'] if r['workload'] not in a.workload] + same
        for k in ('tables_equal', 'tables'): res[k] = {**old[k], **res[k]}
        if threads is None: res['threads'] = old.get('threads')
        res['vllm_start_s'] = [*(old['vllm_start_s'] if isinstance(old['vllm_start_s'], list) else [old['vllm_start_s']]), start]
    f.write_text(json.dumps(res, indent=1))
    print(res['machine']); print(f"vLLM {info['vllm']} (transformers {info['transformers']}), worker start-up {start:.0f} s (float32)")
    if threads: print(table(threads, list(threads[0])))
    if rows: print(table(rows, list(rows[0]))); print(pd.DataFrame(same).to_string(index=False))
    print('tables equal:', res['tables_equal'])


if __name__ == '__main__':
    main()
