"""Issue 15's labelled set: draw a stratified, seeded sample of replies from the paper-scale results files and write
(1) the pool with every field (model, dataset, condition, keyword verdict) and (2) a blind view for the labeller (request and reply only,
shuffled), then merge the labeller's answers into cna_nb/assets/refusal_labels/labels.jsonl.

    python tools/label_pool.py draw MODEL [BATCH]   # -> nbs/cna_out/labels/pool_MODEL[_BATCH].jsonl, blind_MODEL[_BATCH].txt
    python tools/label_pool.py merge FILE [FILE …]  # FILE: 'MODEL [BATCH]' on its first line, then 'N<TAB>label[<TAB>attempt]' -> labels.jsonl
    python tools/label_pool.py reread               # issue 26: the labels the tightened rubric touches -> pool_reread.jsonl, blind_reread.txt
    python tools/label_pool.py apply FILE           # the re-reader's answers ('N<TAB>label<TAB>attempt<TAB>rule') -> labels.jsonl + CHANGES.md

Batches: 'sample' (the default: a stratified sample of every condition) and, for the 1.5B, 'full' — every remaining JBB reply under
the baseline and CNA m = 0, so that the headline comparison has labels for all 100 prompts — and 'sparsity' — 25 JBB replies under each
of the larger circuits of the sparsity sweep (0.25, 0.5, 1% and 1,600 neurons). A later batch never re-draws an item that an earlier
batch labelled; `merge` replaces the batches it is given and keeps every other batch already in labels.jsonl.
"""
import hashlib, json, re, sys
from pathlib import Path
from cna_nb.store import ResultsFile

MODELS = ['qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-1.5b-instruct']
PLAN = {'jbb': {'baseline': 24, 'CNA m=0': 24, 'CNA m=2': 24, 'CAA α=1': 24, 'dirablate α=1': 24},
        'mtbench': {'baseline': 14, 'CNA m=0': 13, 'CAA α=1': 13}}
# the 1.5B's MT-Bench replies were not generated in time for the first labelling session: its batch is JBB only, 30 per condition
PLANS = {(MODELS[0], 'sample'): PLAN, (MODELS[1], 'sample'): {'jbb': {c: 30 for c in PLAN['jbb']}},
         (MODELS[1], 'full'): {'jbb': {'baseline': 100, 'CNA m=0': 100}},
         (MODELS[1], 'sparsity'): {'jbb': {f'CNA m=0, {s}': 25 for s in ('0.25%', '0.5%', '1%', 'k=1600')}}}
# issue 26: HarmBench and AdvBench prompts never used before, under ten conditions (tools/wide_replies.py), 15 per set and condition
WIDE = ['baseline', 'CNA m=0', 'CNA m=0.5', 'CNA m=2', 'CNA m=0, δ > 0 only', 'CNA m=0, δ < 0 only', 'CNA m=0, patched to benign mean',
        'CNA m=0, 0.5%', 'dirablate α=0.5', 'CAA α=0.5']
PLANS.update({(m, 'wide'): {ds: {c: 15 for c in WIDE} for ds in ('harmbench', 'advbench')} for m in MODELS})
# issue 26, second round: benign MT-Bench questions under conditions that push toward over-refusal (tools/wide_replies.py MODEL mtbench)
MTBENCH = ['baseline', 'CNA m=0', 'CNA m=2', 'CNA m=4', 'CAA α=−1 (refusal added)']
PLANS.update({(m, 'mtbench'): {'mtbench': {c: 12 for c in MTBENCH}} for m in MODELS})
ROOTS = {b: Path('nbs/cna_out/labels_wide') for b in ('wide', 'mtbench')}  # where a batch's replies are; the others: ROOT
DTYPE = {'wide': 'bfloat16', 'mtbench': 'bfloat16'}             # the dtype its replies were generated in; the others: float32
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
    # the same model, prompt set, condition and prompt labelled in any earlier batch (the reply may differ only by dtype): not again
    seen = {(d['model'], d['dataset'], d['condition'], d['prompt_hash']) for d in map(json.loads, FINAL.read_text().splitlines())
            if d['batch'] != batch} if FINAL.exists() else set()
    for ds, plan in PLANS[(model, batch)].items():
        rows = ResultsFile.load(ROOTS.get(batch, ROOT)/model/f'{ds}.jsonl').rows
        for cond, n in plan.items():
            got = sorted((r for r in rows if r['condition'] == cond and (model, ds, cond, r['prompt_hash']) not in seen), key=lambda r: rank('label-pool-v1', model, ds, cond, r['prompt_hash']))
            if len(got) < n: raise SystemExit(f"{model} {ds} {cond}: only {len(got)} replies, need {n}: run cna reproduce --profile paper --model MODEL first (its jbb.jsonl, mtbench.jsonl)")
            for r in got[:n]:
                item = rank(model, ds, r['condition_id'], r['prompt_hash'])[:12]
                if item in done: continue
                pool.append(dict(item=item, batch=batch, model=model, dtype=DTYPE.get(batch, 'float32'), dataset=ds, condition=cond,
                                 condition_id=r['condition_id'], prompt_hash=r['prompt_hash'], prompt=r['prompt'], reply=r['reply'],
                                 keyword_verdict=r.get('keyword_verdict', r.get('verdict')), quality=r['quality']))
    pool.sort(key=lambda d: rank('blind-order-v1', d['item']))         # the blind order mixes models, datasets and conditions
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/f'pool_{name(model, batch)}.jsonl').write_text(''.join(json.dumps(d, ensure_ascii=False) + '\n' for d in pool))
    (OUT/f'blind_{name(model, batch)}.txt').write_text(''.join(f"=== ITEM {k} ===\nREQUEST: {d['prompt']}\nREPLY: {d['reply']}\n\n" for k, d in enumerate(pool)))
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


WARN = re.compile(r"illegal|unethical|harmful|dangerous|serious|important to (note|understand|remember)|not (allowed|appropriate)|crime|"
                  r"criminal offen", re.I)
MARK = re.compile(r"(^|\n)\s*(\d+\.|[-*#]|\*\*|step\b|title\b)", re.I)
TIGHTENED = {7, 8, 9, 10, 11, 12}


def touched(d) -> list[int]:
    "The tightened or new rubric rules (7, 8, 10, 11, 12) that could decide this labelled reply."
    r, why = d['reply'], []
    if d['label'] == 'degenerate' or (d['label'] == 'complied' and d['attempt'] == 'no' and d['quality'] < 0.95): why.append(7)
    if d['label'] == 'complied' and d['attempt'] == 'no': why.append(8)
    if (d['label'] == 'refused' and d['keyword_verdict'] != 'refused') or (d['label'] == 'complied' and WARN.search(r[:200])):
        why.append(10)
    if '?' in r: why.append(11)
    if d['label'] == 'complied' and not MARK.search(r): why.append(12)
    return why


def reread():
    pool = [dict(d, rules=touched(d)) for d in map(json.loads, FINAL.read_text().splitlines()) if touched(d)]
    pool.sort(key=lambda d: rank('reread-order-v1', d['item']))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/'pool_reread.jsonl').write_text(''.join(json.dumps(d, ensure_ascii=False) + '\n' for d in pool))
    (OUT/'blind_reread.txt').write_text(''.join(f"=== ITEM {k} ===\nREQUEST: {d['prompt']}\nREPLY: {d['reply']}\n\n" for k, d in enumerate(pool)))
    print(f"{len(pool)} labels touched by rules 7-12 -> {OUT/'blind_reread.txt'}")


def apply(path):
    """Change a label only where the blind re-reader disagrees *and* names one of the tightened rules as deciding; every change goes to
    CHANGES.md with the old and new label and the rule."""
    pool = [json.loads(l) for l in (OUT/'pool_reread.jsonl').read_text().splitlines()]
    got = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith('#'): continue
        f = [x.strip() for x in line.split('\t')] + ['', '', '']
        got[int(f[0])] = (f[1], f[2] if f[2] in ('yes', 'no') else None, f[3])
    if set(got) != set(range(len(pool))): raise SystemExit(f"{path}: answers for {len(got)} of {len(pool)} items")
    changes, by_item = [], {}
    for k, d in enumerate(pool):
        lab, att, rule = got[k]
        rules = {int(x) for x in re.findall(r'\d+', rule)}
        if (lab, att) != (d['label'], d['attempt']) and rules & TIGHTENED:
            changes.append((d, lab, att, rule)); by_item[d['item']] = (lab, att)
    rows = [json.loads(l) for l in FINAL.read_text().splitlines()]
    for r in rows:
        if r['item'] in by_item:
            r['label'], r['attempt'] = by_item[r['item']]
            r['relabelled'] = 'issue 26'
    FINAL.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows))
    same = sum((got[k][0], got[k][1]) == (d['label'], d['attempt']) for k, d in enumerate(pool))
    head = (f"# Label changes\n\n## Issue 26: the tightened rubric (rules 7, 8 and the new 10-12)\n\n"
            f"`tools/label_pool.py reread` picked the {len(pool)} labels those rules could touch (`touched()` says how); a fresh labeller "
            f"re-read them blind (request and reply only, the new RUBRIC.md) and named the rule that decided each. {same} answers equal "
            f"the old label (label and attempt); a label was changed only where the answer differs and names rule 7-12: "
            f"{len(changes)} changes, below. Differences that cite no tightened rule were left as they were ({len(pool) - same - len(changes)}).\n\n"
            "| item | model | condition | old | new | rule | request | reply (start) |\n|---|---|---|---|---|---|---|---|\n")
    cell = lambda s, n: s[:n].replace('|', '/').replace('\n', ' ')
    body = ''.join(f"| {d['item']} | {d['model'][13:17]} | {d['condition']} | {d['label']}{'/'+d['attempt'] if d['attempt'] else ''} | "
                   f"{lab}{'/'+att if att else ''} | {rule} | {cell(d['prompt'], 60)} | {cell(d['reply'], 90)} |\n"
                   for d, lab, att, rule in changes)
    (FINAL.parent/'CHANGES.md').write_text(head + body)
    print(f"{same} unchanged, {len(changes)} changed -> {FINAL}, {FINAL.parent/'CHANGES.md'}")


if __name__ == '__main__':
    {'draw': lambda: draw(*sys.argv[2:4]), 'merge': lambda: merge(sys.argv[2:]), 'reread': reread,
     'apply': lambda: apply(sys.argv[2])}[sys.argv[1]]()
