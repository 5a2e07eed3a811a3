"""Issue 26's wider labelled set: replies of both embedded models to HarmBench and AdvBench prompts never used for discovery (and no
near duplicate of a JBB goal, a discovery prompt or each other), under conditions the first labels did not cover: the multiplier sweep
(m = 0.5, 2), sign halves, mean-patching, a 0.5% circuit, directional ablation and CAA at α = 0.5, besides baseline and CNA m = 0.

    python tools/wide_replies.py MODEL            # -> nbs/cna_out/labels_wide/MODEL/{harmbench,advbench}.jsonl (resumable)
    python tools/wide_replies.py MODEL mtbench    # -> nbs/cna_out/labels_wide/MODEL/mtbench.jsonl (resumable)

`mtbench` (issue 26, second round): benign MT-Bench questions under the conditions that push a model toward refusing what it should
answer — amplification (CNA m = 2, 4) and CAA with the refusal direction added (α = −1) — besides baseline and CNA m = 0. The first
labels hold only 40 MT-Bench replies (the 0.5B, four refused), too few to tell whether a judge that never saw a benign prompt set
still reads over-refusal. The 0.5B gets the first 40 questions, the 1.5B the other 40.

The models run in the dtype `auto` picks on this machine (recorded in each file's timings line). 80 + 80 prompts are drawn once, seeded;
the 0.5B gets the first 40 of each set, the 1.5B the next 40, so the two models' labelled replies never share a prompt.
"""
import json, random, sys, time
from pathlib import Path
import torch

MODELS = ['qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-1.5b-instruct']
OUT = Path('nbs/cna_out/labels_wide')


def wide_prompts(per_set=80, seed=26, threshold=0.75, max_chars=160):
    "{'harmbench': [...], 'advbench': [...]}: seeded draws, none in discovery, none a near duplicate of JBB, discovery or each other."
    from cna_nb.data import load_harmbench, load_advbench, load_jbb, load_discovery, max_similarity
    ref = load_jbb().Goal.tolist() + load_discovery()[0]
    out, chosen = {}, []
    for name, src in (('harmbench', load_harmbench()), ('advbench', load_advbench().goal.tolist())):
        src = [s for s in src if len(s) <= max_chars]
        random.Random(seed).shuffle(src)
        got = []
        for s in src:
            if len(got) == per_set: break
            if max_similarity(s, ref) < threshold and max_similarity(s, chosen) < threshold: got.append(s); chosen.append(s)
        if len(got) < per_set: raise SystemExit(f"{name}: only {len(got)} usable prompts")
        out[name] = got
    return out


def mtbench_conditions(circ, rc):
    from cna_nb.conditions import Condition
    return [Condition.baseline(), Condition.cna(circ, m=0), Condition.cna(circ, m=2), Condition.cna(circ, m=4),
            Condition.caa(rc, alpha=-1, label='CAA α=−1 (refusal added)')]


def main(model_name, which='wide'):
    from cna_nb.models import load_model
    from cna_nb.data import load_discovery
    from cna_nb.circuit import find_circuit
    from cna_nb.deltas import residual_contrast
    from cna_nb.conditions import Condition
    from cna_nb.runner import evaluate
    from cna_nb.defaults import RUN_BATCH
    k = MODELS.index(model_name)
    if which not in ('wide', 'mtbench'): raise SystemExit(f"second argument must be 'mtbench' (or nothing), got {which!r}")
    if which == 'wide': prompts = {ds: ps[40*k:40*(k+1)] for ds, ps in wide_prompts().items()}
    else:
        from cna_nb.data import mtbench_prompts
        prompts = {'mtbench': mtbench_prompts()[40*k:40*(k+1)]}
    out = OUT/model_name; out.mkdir(parents=True, exist_ok=True)
    t0 = time.time(); model, tok = load_model(model_name)
    pos, neg = load_discovery()
    circ, con = find_circuit(model, tok, pos, neg, frac=0.001, batch_size=RUN_BATCH, return_contrast=True, progress=False)
    rc = residual_contrast(model, tok, pos, neg, batch_size=RUN_BATCH, progress=False)
    conds = mtbench_conditions(circ, rc) if which == 'mtbench' else [Condition.baseline(), Condition.cna(circ, m=0), Condition.cna(circ, m=0.5), Condition.cna(circ, m=2),
             Condition.cna(circ, m=0, sign='positive'), Condition.cna(circ, m=0, sign='negative'),
             Condition.cna(circ, m=0, toward=con.neg.mean, label='CNA m=0, patched to benign mean'),
             Condition.cna(con.circuit(0.005), m=0, label='CNA m=0, 0.5%'),
             Condition.dirablate(rc, alpha=0.5), Condition.caa(rc, alpha=0.5)]
    for ds, ps in prompts.items():
        t1 = time.time()
        df = evaluate(model, tok, ps, conds, batch_size=RUN_BATCH, out=out/f'{ds}.jsonl', progress=False)
        rec = dict(dataset=ds, rows=len(df), seconds=round(time.time() - t1, 1), dtype=str(model.dtype),
                   cpu=torch.backends.cpu.get_cpu_capability(), threads=torch.get_num_threads(),
                   when=time.strftime('%Y-%m-%d %H:%M:%S'),
                   refusal={c: round(float(v), 3) for c, v in df.groupby('condition', sort=False).refused.mean().items()})
        with open(out/'timings.jsonl', 'a') as f: f.write(json.dumps(rec, ensure_ascii=False) + '\n')
        print(rec, flush=True)


if __name__ == '__main__':
    main(*sys.argv[1:3])
