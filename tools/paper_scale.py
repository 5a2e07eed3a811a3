"""Issue 15's long runs: the paper's protocol on one embedded model, stage by stage, into resumable JSONL files.

Every stage goes through `cna_nb.runner.evaluate` (or `mmlu_eval`) with an `out` file, so a cut-off run resumes from the rows it has and
a file made with another model, prompt or condition is refused. Wall times of each stage are appended to `<out>/timings.jsonl`.

    python tools/paper_scale.py --model qwen2.5-coder-1.5b-instruct --stages core,multiplier,sign,sparsity,mtbench,mmlu

Stages: core, baseline, multiplier (m = 0.5, 2), half (m = 0.5), amplify (m = 2), sign, sparsity, mtbench, mmlu, stability
(split-half circuits against each other and the full circuit, to `<out>/stability.csv`).
"""
import argparse, json, os, sys, time
from pathlib import Path
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='qwen2.5-coder-1.5b-instruct')
    ap.add_argument('--stages', default='core,multiplier,sign,sparsity,mtbench,mmlu')
    ap.add_argument('--out', default=None)
    ap.add_argument('--n', type=int, default=100, help='JBB prompts')
    ap.add_argument('--max-new-tokens', type=int, default=48)
    ap.add_argument('--batch-size', type=int, default=16)
    a = ap.parse_args()
    from cna_nb.models import load_model
    from cna_nb.data import load_discovery, jbb_prompts, mtbench_prompts, load_mmlu
    from cna_nb.circuit import find_circuit
    from cna_nb.deltas import residual_contrast
    from cna_nb.conditions import Condition
    from cna_nb.runner import evaluate
    out = Path(a.out or f'nbs/cna_out/paper_scale/{a.model}'); out.mkdir(parents=True, exist_ok=True)
    log = out/'timings.jsonl'
    def stamp(stage, t0, **kw):
        rec = dict(stage=stage, seconds=round(time.time() - t0, 1), when=time.strftime('%Y-%m-%d %H:%M:%S'), threads=torch.get_num_threads(), **kw)
        with open(log, 'a') as f: f.write(json.dumps(rec) + '\n')
        print(rec, flush=True)

    t0 = time.time(); model, tok = load_model(a.model); stamp('load', t0, dtype=str(model.dtype))
    pos, neg = load_discovery(); jbb = jbb_prompts(a.n)
    t0 = time.time()
    circ, con = find_circuit(model, tok, pos, neg, frac=0.001, batch_size=a.batch_size, return_contrast=True, progress=False)
    rc = residual_contrast(model, tok, pos, neg, batch_size=a.batch_size, progress=False)
    stamp('discovery', t0, neurons=len(circ), positive=int((circ.deltas > 0).sum()))
    circ.save(out/'circuit.pt')
    kw = dict(max_new_tokens=a.max_new_tokens, batch_size=a.batch_size, out=out/'jbb.jsonl', progress=False)
    stages = {}
    stages['core'] = [Condition.baseline(), Condition.cna(circ, m=0), Condition.random(circ, m=0, seed=0, exclude=con.exclude),
                      Condition.caa(rc, alpha=1), Condition.dirablate(rc, alpha=1)]
    stages['baseline'] = stages['core'][:1]                                        # alone: re-run to check a run reproduces
    stages['multiplier'] = [Condition.cna(circ, m=m) for m in (0.5, 2)]
    stages['half'] = [Condition.cna(circ, m=0.5)]                                  # the multiplier stage without m=2 (in 'amplify')
    stages['amplify'] = [Condition.cna(circ, m=2)]                                 # the labelled set's amplified replies, first
    stages['sign'] = [Condition.cna(circ, m=0, sign='positive'), Condition.random(circ, m=0, seed=0, exclude=con.exclude, sign='positive'),
                      Condition.cna(circ, m=0, sign='negative'), Condition.random(circ, m=0, seed=0, exclude=con.exclude, sign='negative'),
                      Condition.cna(circ, m=0, toward=con.neg.mean, label='CNA m=0, patched to benign mean'),
                      Condition.random(circ, m=0, seed=0, exclude=con.exclude, toward=con.neg.mean, label='random m=0, patched to benign mean')]
    sp = []
    for f in (0.0005, 0.0025, 0.005, 0.01, None):
        c = con.circuit(f) if f else con.circuit(k=1600); name = f'{100*f:g}%' if f else 'k=1600'
        t = con.exclude.clone(); t[c.layers, c.neurons] = True
        sp += [Condition.cna(c, m=0, label=f'CNA m=0, {name}'), Condition.random(c, m=0, seed=0, exclude=t, label=f'random m=0, {name}')]
    stages['sparsity'] = sp
    for st in a.stages.split(','):
        t0 = time.time()
        if st in stages:
            df = evaluate(model, tok, jbb, stages[st], **kw)
            stamp(st, t0, rows=len(df), refusal={k: round(float(v), 3) for k, v in df.groupby('condition', sort=False).refused.mean().items()})
        elif st == 'mtbench':
            conds = stages['core'][:2] + stages['core'][3:4]           # baseline, CNA m=0, CAA α=1
            df = evaluate(model, tok, mtbench_prompts(), conds, max_new_tokens=a.max_new_tokens, batch_size=a.batch_size,
                          out=out/'mtbench.jsonl', progress=False)
            stamp(st, t0, rows=len(df), refusal={k: round(float(v), 3) for k, v in df.groupby('condition', sort=False).refused.mean().items()})
        elif st == 'mmlu':
            from cna_nb.mmlu import mmlu_eval
            r = mmlu_eval(model, tok, load_mmlu(), stages['core'][:2], out=out/'mmlu.jsonl', progress=False)
            stamp(st, t0, rows=len(r), accuracy={k: round(float(v), 4) for k, v in r.groupby('condition', sort=False).correct.mean().items()})
        elif st == 'stability':                                         # split-half: circuits of the same size from two disjoint halves
            from cna_nb.overlap import split_half_circuits, stability_table
            h1, h2 = split_half_circuits(model, tok, pos, neg, k=len(circ), batch_size=a.batch_size, progress=False)
            t = stability_table({'half 1 vs half 2': (h1, h2), 'half 1 vs full': (h1, circ), 'half 2 vs full': (h2, circ)})
            t.to_csv(out/'stability.csv', index=False)
            stamp(st, t0, rows=len(t), intersection=t.intersection.tolist())
        else: raise SystemExit(f"unknown stage {st!r}: one of {list(stages) + ['mtbench', 'mmlu', 'stability']}")


if __name__ == '__main__':
    main()
