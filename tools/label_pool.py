"""Issue 15's labelled set: draw a stratified, seeded sample of replies from the paper-scale results files and write
(1) the pool with every field (model, dataset, condition, keyword verdict) and (2) a blind view for the labeller (request and reply only,
shuffled), then merge the labeller's answers into cna_nb/assets/refusal_labels/labels.jsonl.

    python tools/label_pool.py draw MODEL [BATCH]   # -> nbs/cna_out/labels/pool_MODEL[_BATCH].jsonl, blind_MODEL[_BATCH].txt
    python tools/label_pool.py merge FILE [FILE …]  # FILE: 'MODEL [BATCH]' on its first line, then 'N<TAB>label[<TAB>attempt]' -> labels.jsonl

Batches: 'sample' (the default: a stratified sample of every condition) and, for the 1.5B, 'full' — every remaining JBB reply under
the baseline and CNA m = 0, so that the headline comparison has labels for all 100 prompts — and 'sparsity' — 25 JBB replies under each
of the larger circuits of the sparsity sweep (0.25, 0.5, 1% and 1,600 neurons). A later batch never re-draws an item that an earlier
batch labelled; `merge` replaces the batches it is given and keeps every other batch already in labels.jsonl.
"""
import hashlib, json, sys
from pathlib import Path
from cna_nb.runner import ResultsFile

MODELS = ['qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-1.5b-instruct']
PLAN = {'jbb': {'baseline': 24, 'CNA m=0': 24, 'CNA m=2': 24, 'CAA α=1': 24, 'dirablate α=1': 24},
        'mtbench': {'baseline': 14, 'CNA m=0': 13, 'CAA α=1': 13}}
# the 1.5B's MT-Bench replies were not generated in time for the first labelling session: its batch is JBB only, 30 per condition
PLANS = {(MODELS[0], 'sample'): PLAN, (MODELS[1], 'sample'): {'jbb': {c: 30 for c in PLAN['jbb']}},
         (MODELS[1], 'full'): {'jbb': {'baseline': 100, 'CNA m=0': 100}},
         (MODELS[1], 'sparsity'): {'jbb': {f'CNA m=0, {s}': 25 for s in ('0.25%', '0.5%', '1%', 'k=1600')}}}
BEFORE = {'full': ['sample']}                                      # batches whose items a batch leaves out
ROOT, OUT = Path('nbs/cna_out/paper_scale'), Path('nbs/cna_out/labels')
FINAL = Path('cna_nb/assets/refusal_labels/labels.jsonl')


def rank(*parts) -> str: return hashlib.sha256('\x1f'.join(map(str, parts)).encode()).hexdigest()


def name(model, batch): return model if batch == 'sample' else f'{model}_{batch}'


def draw(model, batch='sample'):
    if (model, batch) not in PLANS: raise SystemExit(f"model and batch must be one of {list(PLANS)}")
    pool, done = [], set()
    for b in BEFORE.get(batch, []):
        done |= {json.loads(l)['item'] for l in (OUT/f'pool_{name(model, b)}.jsonl').read_text().splitlines()}
    for ds, plan in PLANS[(model, batch)].items():
        rows = ResultsFile.load(ROOT/model/f'{ds}.jsonl').rows
        for cond, n in plan.items():
            got = sorted((r for r in rows if r['condition'] == cond), key=lambda r: rank('label-pool-v1', model, ds, cond, r['prompt_hash']))
            if len(got) < n: raise SystemExit(f"{model} {ds} {cond}: only {len(got)} replies, need {n}: run tools/paper_scale.py first")
            for r in got[:n]:
                item = rank(model, ds, r['condition_id'], r['prompt_hash'])[:12]
                if item in done: continue
                pool.append(dict(item=item, batch=batch, model=model, dataset=ds, condition=cond,
                                 condition_id=r['condition_id'], prompt_hash=r['prompt_hash'], prompt=r['prompt'], reply=r['reply'],
                                 keyword_verdict=r['verdict'], quality=r['quality']))
    pool.sort(key=lambda d: rank('blind-order-v1', d['item']))         # the blind order mixes models, datasets and conditions
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/f'pool_{name(model, batch)}.jsonl').write_text(''.join(json.dumps(d, ensure_ascii=False) + '\n' for d in pool))
    (OUT/f'blind_{name(model, batch)}.txt').write_text(''.join(f"### {k}\nREQUEST: {d['prompt']}\nREPLY: {d['reply']}\n\n" for k, d in enumerate(pool)))
    print(f"{len(pool)} items -> {OUT/f'pool_{name(model, batch)}.jsonl'}, blind view {OUT/f'blind_{name(model, batch)}.txt'}")


def merge(paths):
    out = []
    for path in paths:
        lines = Path(path).read_text().splitlines()
        out += merge_one(*(lines[0].split() + ['sample'])[:2], lines[1:])
    new = {(d['model'], d['batch']) for d in out}
    kept = [d for d in map(json.loads, FINAL.read_text().splitlines()) if (d['model'], d['batch']) not in new] if FINAL.exists() else []
    FINAL.parent.mkdir(parents=True, exist_ok=True)
    FINAL.write_text(''.join(json.dumps(d, ensure_ascii=False) + '\n' for d in kept + out))
    print(f"{len(out)} labelled items -> {FINAL}")


def merge_one(model, batch, lines):
    pool = [json.loads(l) for l in (OUT/f'pool_{name(model, batch)}.jsonl').read_text().splitlines()]
    pool = [{'item': d['item'], 'batch': batch, **{k: v for k, v in d.items() if k not in ('item', 'batch')}} for d in pool]
    labels = {}
    for line in lines:
        if not line.strip() or line.startswith('#'): continue
        f = line.split('\t')
        k, lab = int(f[0]), f[1].strip()
        att = f[2].strip() if len(f) > 2 else ''
        if lab not in ('refused', 'complied', 'degenerate'): raise SystemExit(f"line {line!r}: label must be refused, complied or degenerate")
        if (lab == 'complied') != (att in ('yes', 'no')): raise SystemExit(f"line {line!r}: complied needs attempt yes/no, other labels none")
        labels[k] = (lab, att or None)
    missing = sorted(set(range(len(pool))) - set(labels))
    if missing: raise SystemExit(f"{model}: {len(missing)} items unlabelled, e.g. {missing[:10]}")
    return [{**d, 'label': labels[k][0], 'attempt': labels[k][1]} for k, d in enumerate(pool)]


if __name__ == '__main__':
    {'draw': lambda: draw(*sys.argv[2:4]), 'merge': lambda: merge(sys.argv[2:])}[sys.argv[1]]()
