"""Benchmark 5 — bfloat16 against float32 on one embedded model, side by side in one run: speed and agreement.

Stages (each runs float32, then bfloat16, back to back, so both see the same machine load):
  load       — `load_model(dtype=…)` from the embedded cache
  discovery  — `contrast` on the shipped 100 + 100 discovery prompts (statistics cache off) + the top-0.1% selection
  generation — hook-steered greedy generation (each dtype's own 0.1% circuit, m = 0), 32 JBB prompts × 64 new tokens, fixed work
  jbb        — baseline replies to 100 JBB prompts (48 new tokens, `cna run`'s default), verdicts by `refusal_verdict`
  mmlu       — zero-shot MMLU on --mmlu-per-topic questions per subject of the shipped subset (letter log-probabilities)
and the agreement of the two dtypes: Jaccard of the 0.1% circuits and Pearson r of δ; verdict agreement, Cohen's κ and identical replies
on the 100 JBB replies; MMLU accuracy difference (paired bootstrap CI) and answer agreement.

Every stage's result is written to --out as it finishes (JSON, keyed by the model's fingerprint and the settings), so a cut-off run resumes
from the stages it has; a file made with another model or other settings is refused (delete it or pass another --out).

    python benchmarks/dtype.py [--model qwen2.5-coder-0.5b-instruct] [--stages load,discovery,generation,jbb,mmlu] [--out FILE]
"""
import argparse, gc, json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict, rss_gb
import numpy as np
import torch

DTYPES = ('float32', 'bfloat16')
STAGES = ('load', 'discovery', 'generation', 'jbb', 'mmlu')


def kappa(a, b) -> float:
    "Cohen's κ of two label lists."
    a, b = np.asarray(a), np.asarray(b)
    labels = sorted(set(a) | set(b))
    po = float((a == b).mean())
    pe = sum(float((a == l).mean()) * float((b == l).mean()) for l in labels)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='qwen2.5-coder-0.5b-instruct')
    ap.add_argument('--stages', default=','.join(STAGES))
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--mmlu-per-topic', type=int, default=2, help='MMLU questions per subject from the shipped subset (10 = all 570; '
                    'bfloat16 prefill is ~7× slower than float32 on CPUs without native bf16, so the default is 2 = 114 questions)')
    ap.add_argument('--out', default=None, help='results file (default benchmarks/results/dtype_<model>.json)')
    a = ap.parse_args()
    stages = a.stages.split(',')
    if bad := set(stages) - set(STAGES): sys.exit(f"unknown stage(s) {sorted(bad)}: choose from {','.join(STAGES)}")
    os.environ['CNA_NB_STATS_CACHE'] = '0'
    from cna_nb.models import load_model
    from cna_nb.fingerprint import model_fingerprint
    from cna_nb.data import load_discovery, jbb_prompts
    from cna_nb.deltas import contrast
    from cna_nb.decoding import generate
    from cna_nb.interventions import steer
    from cna_nb.conditions import Condition
    from cna_nb.runner import evaluate
    from cna_nb.mmlu import mmlu_eval
    from cna_nb.data import load_mmlu
    from cna_nb.stats import paired_bootstrap
    header(f"dtype benchmark: {a.model}, float32 vs bfloat16, batch {a.batch_size}")
    out = a.out or os.path.join(os.path.dirname(__file__), 'results', f'dtype_{a.model}.json')
    os.makedirs(os.path.dirname(out), exist_ok=True)

    models = {}
    for dt in DTYPES:
        with Timer() as t: models[dt] = load_model(a.model, dtype=dt)
        models[dt][0]._load_s = t.s
    fps = {dt: model_fingerprint(m) for dt, (m, _) in models.items()}
    settings = dict(model=a.model, fingerprints=fps, batch_size=a.batch_size, threads=torch.get_num_threads(), version=1)
    res = json.load(open(out)) if os.path.exists(out) else {'settings': settings}
    if res.get('settings') != settings:
        sys.exit(f"{out} holds results of other settings {res.get('settings')}: delete it or pass another --out")
    save = lambda: json.dump(res, open(out + '.tmp', 'w'), indent=1) or os.replace(out + '.tmp', out)
    print(f"fingerprints {fps}; results → {out}\n", flush=True)

    pos, neg = load_discovery()
    circuits = {}
    for stage in STAGES:
        if stage not in stages: continue
        for dt in DTYPES:
            key = f'{stage}/{dt}'
            model, tok = models[dt]
            if stage == 'load':
                res[key] = dict(seconds=model._load_s, weights_gb=sum(p.numel()*p.element_size() for p in model.parameters())/1e9)
                print(f"{key}: {model._load_s:.1f}s", flush=True); continue
            if stage == 'mmlu' and key in res and res[key]['questions'] != 57 * a.mmlu_per_topic: del res[key]   # another question set: redo
            if key in res and stage != 'discovery':
                print(f"{key}: resumed", flush=True); continue
            if stage == 'discovery':
                if key in res and os.path.exists(res[key]['delta_file']):
                    circuits[dt] = contrast_circuit(res[key]); print(f"{key}: resumed", flush=True); continue
                with Timer() as t:
                    con = contrast(model, tok, pos, neg, batch_size=a.batch_size, progress=False)
                    c = con.circuit(0.001)
                dfile = out.replace('.json', f'_delta_{dt}.pt'); torch.save(con.delta, dfile)
                res[key] = dict(seconds=t.s, prompts=len(pos) + len(neg), neurons=[[int(l), int(n)] for l, n in zip(c.layers, c.neurons)], delta_file=dfile)
                circuits[dt] = c
            elif stage == 'generation':
                c = circuits.get(dt) or contrast_circuit(res[f'discovery/{dt}'])
                prompts = jbb_prompts(32)
                with Timer() as t:
                    with steer(model, c, 0.0): generate(model, tok, prompts, max_new_tokens=64, batch_size=32, progress=False, stop_at_eos=False)
                res[key] = dict(seconds=t.s, tokens=32*64, tokens_per_s=32*64/t.s)
            elif stage == 'jbb':
                with Timer() as t:
                    df = evaluate(model, tok, jbb_prompts(100), [Condition.baseline()], max_new_tokens=48, batch_size=a.batch_size, progress=False, refusal='keyword')
                res[key] = dict(seconds=t.s, verdicts=df.verdict.tolist(), replies=df.reply.tolist(), quality=float(df.quality.mean()))
            elif stage == 'mmlu':
                q = load_mmlu().groupby('topic').head(a.mmlu_per_topic).reset_index(drop=True)
                with Timer() as t: df = mmlu_eval(model, tok, q, batch_size=a.batch_size, progress=False)
                res[key] = dict(seconds=t.s, questions=len(q), pred=df.pred.tolist(), correct=df.correct.astype(int).tolist(), accuracy=float(df.correct.mean()))
            print(f"{key}: {res[key]['seconds']:.1f}s (RSS {rss_gb():.1f} GB)", flush=True)
            save()
        save()

    report(res, paired_bootstrap)


def contrast_circuit(r):
    "The 0.1% circuit of a stored discovery stage, as {layer: [neurons]}."
    d = {}
    for l, n in r['neurons']: d.setdefault(l, []).append(n)
    return d


def report(res, paired_bootstrap):
    rows, checks = [], []
    for stage in STAGES:
        f, b = res.get(f'{stage}/float32'), res.get(f'{stage}/bfloat16')
        if not (f and b): continue
        extra = {'load': lambda r: f"{r['weights_gb']:.2f} GB of weights", 'discovery': lambda r: f"{r['prompts']/r['seconds']:.2f} prompts/s",
                 'generation': lambda r: f"{r['tokens_per_s']:.1f} tokens/s", 'jbb': lambda r: f"refusal {np.mean([v == 'refused' for v in r['verdicts']]):.0%}, quality {r['quality']:.3f}",
                 'mmlu': lambda r: f"accuracy {r['accuracy']:.1%}"}[stage]
        for dt, r in (('float32', f), ('bfloat16', b)):
            rows.append(dict(stage=stage, dtype=dt, seconds=f"{r['seconds']:.1f}", **{'bfloat16 speed-up': f"{f['seconds']/b['seconds']:.2f}×" if dt == 'bfloat16' else ''}, detail=extra(r)))
        if stage in ('discovery', 'generation'): checks.append((f"bfloat16 ≥ 1.5× float32 on {stage} ({f['seconds']/b['seconds']:.2f}×)", f['seconds'] >= 1.5*b['seconds']))
    print(table(rows, ['stage', 'dtype', 'seconds', 'bfloat16 speed-up', 'detail']))
    print('\nagreement, bfloat16 vs float32:')
    if 'discovery/float32' in res and 'discovery/bfloat16' in res:
        A, B = ({tuple(x) for x in res[f'discovery/{dt}']['neurons']} for dt in DTYPES)
        d32, d16 = (torch.load(res[f'discovery/{dt}']['delta_file']).flatten() for dt in DTYPES)
        r = float(torch.corrcoef(torch.stack([d32, d16]))[0, 1])
        print(f"  0.1% circuit: {len(A)} neurons; Jaccard {len(A & B)/len(A | B):.3f} ({len(A & B)} shared); δ Pearson r {r:.5f}, "
              f"max |δ32 − δ16| {float((d32 - d16).abs().max()):.4f} (max |δ32| {float(d32.abs().max()):.3f})")
    if 'jbb/float32' in res and 'jbb/bfloat16' in res:
        v32, v16 = res['jbb/float32']['verdicts'], res['jbb/bfloat16']['verdicts']
        same = np.mean([x == y for x, y in zip(v32, v16)])
        ident = sum(x == y for x, y in zip(res['jbb/float32']['replies'], res['jbb/bfloat16']['replies']))
        flips = {}
        for x, y in zip(v32, v16):
            if x != y: flips[f'{x}→{y}'] = flips.get(f'{x}→{y}', 0) + 1
        print(f"  JBB verdicts: {same:.0%} agree, Cohen's κ {kappa(v32, v16):.3f}; {ident}/{len(v32)} replies token-identical; "
              f"refusal {np.mean([v == 'refused' for v in v32]):.0%} (float32) vs {np.mean([v == 'refused' for v in v16]):.0%} (bfloat16); flips {flips or 'none'}")
    if 'mmlu/float32' in res and 'mmlu/bfloat16' in res:
        c32, c16 = (np.array(res[f'mmlu/{dt}']['correct'], dtype=float) for dt in DTYPES)
        pb = paired_bootstrap(c16, c32)
        same = np.mean([x == y for x, y in zip(res['mmlu/float32']['pred'], res['mmlu/bfloat16']['pred'])])
        print(f"  MMLU: {c32.mean():.1%} (float32) vs {c16.mean():.1%} (bfloat16), difference {100*(c16.mean()-c32.mean()):+.1f} points "
              f"[{100*pb['lo']:+.1f}, {100*pb['hi']:+.1f}] (paired bootstrap, p = {pb['p']:.2f}); same answer on {same:.1%} of {len(c32)} questions ({len(c32)//57} per subject)")
    if checks: print('\n' + verdict('bfloat16 speed', checks))


if __name__ == '__main__': main()
