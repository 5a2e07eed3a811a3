"""Benchmark 1 — discovery on 100 + 100 prompts (the shipped discovery set), embedded 0.5B.

Compares, in one run:
  floor: full   — plain batched forward of the whole model (batch 16, prompts in given order, logits at every position)
  floor: body   — batched forward of the model body only (no LM head), length-sorted: what capture must at least pay without prefix reuse
  cna_nb        — `contrast` (capture with shared-prefix KV cache, length bucketing, streaming float64 sums) + top-0.1% selection,
                  statistics cache off
  cna_nb rerun  — the same call with the statistics cache on, second time (what a notebook rerun pays)
  naive         — the textbook loop: one prompt at a time, hooks registered per prompt, every layer's whole activation tensor kept,
                  per-neuron Python loop for δ and the selection
and checks that every implementation selects the same circuit.

    python benchmarks/discovery.py [--n 100] [--batch-size 16]
"""
import argparse, os, sys, tempfile
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict, peak_rss_gb, left_padded
import torch


def naive_discovery(model, tok, pos, neg, k):
    "The reference pattern: per-prompt forward with per-prompt hooks, keep whole tensors, δ and top-k neuron by neuron in Python."
    from cna_nb.architectures import out_projs
    from cna_nb.prompts import format_prompts
    def acts_of(prompts):
        rows = []
        for text in format_prompts(tok, prompts):
            store = []
            hs = [p.register_forward_pre_hook(lambda mod, args: store.append(args[0].cpu())) for p in out_projs(model)]  # .cpu() of a CPU tensor: no copy, keeps it alive
            try:
                with torch.no_grad(): model(**tok([text], return_tensors='pt', add_special_tokens=False))
            finally:
                for h in hs: h.remove()
            rows.append(store)
        return rows
    P, N = acts_of(pos), acts_of(neg)
    deltas = []
    for l in range(len(P[0])):
        lp = torch.stack([r[l][0, -1] for r in P])      # [n_prompts, width], last token of layer l
        ln = torch.stack([r[l][0, -1] for r in N])
        for n in range(lp.shape[1]):                     # neuron by neuron, in Python
            deltas.append((abs(lp[:, n].double().mean().item() - ln[:, n].double().mean().item()), l, n))
    deltas.sort(key=lambda x: -x[0])
    return {(l, n) for _, l, n in deltas[:k]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=100, help='prompts per side (max 100)')
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--skip-naive', action='store_true')
    ap.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16', 'auto'], help='model dtype (benchmarks/dtype.py compares the two side by side)')
    a = ap.parse_args()
    os.environ['CNA_NB_STATS_CACHE'] = '0'
    from cna_nb.models import load_model
    from cna_nb.data import load_discovery
    from cna_nb.prompts import format_prompts, token_ids, longest_first
    from cna_nb.capture import capture
    from cna_nb.deltas import contrast
    from cna_nb.deltas import n_select
    model, tok = load_model(dtype=a.dtype)
    header(f"discovery benchmark: {a.n} + {a.n} prompts, embedded 0.5B in {str(model.dtype).replace('torch.', '')} "
           f"(--dtype {a.dtype}), batch {a.batch_size}")
    pos, neg = (x[:a.n] for x in load_discovery())
    texts = format_prompts(tok, pos + neg)
    rows, res = [], {}

    def floor(body: bool, sort: bool):
        order = longest_first([len(x) for x in token_ids(tok, texts, special=False)]) if sort else list(range(len(texts)))
        with torch.no_grad():
            for s in range(0, len(order), a.batch_size):
                enc = left_padded(tok, [texts[i] for i in order[s:s+a.batch_size]])
                (model.base_model if body else model)(**enc, use_cache=False)

    with Timer() as t: floor(body=False, sort=False)
    res['full'] = t.s; rows.append(dict(method='floor: full-model batched forward (logits everywhere)', seconds=f"{t.s:.1f}"))
    with Timer() as t: floor(body=True, sort=True)
    res['body'] = t.s; rows.append(dict(method='floor: model body only, length-sorted', seconds=f"{t.s:.1f}"))
    with Timer() as t:
        con = contrast(model, tok, pos, neg, batch_size=a.batch_size, progress=False)
        ours = con.circuit(0.001)
    res['ours'] = t.s; rows.append(dict(method='cna_nb contrast + selection', seconds=f"{t.s:.1f}"))
    with Timer() as t:
        for side in (pos, neg): capture(model, tok, side, batch_size=a.batch_size, progress=False, prefix_cache=False)
    res['noprefix'] = t.s; rows.append(dict(method='cna_nb capture without the prefix cache', seconds=f"{t.s:.1f}"))
    with tempfile.TemporaryDirectory() as d:          # a private statistics cache: first call fills it, the timed second call reads it
        old = os.environ.get('CNA_NB_CACHE'); os.environ.update(CNA_NB_CACHE=d, CNA_NB_STATS_CACHE='1')
        try:
            contrast(model, tok, pos, neg, batch_size=a.batch_size, progress=False)
            with Timer() as t: again = contrast(model, tok, pos, neg, batch_size=a.batch_size, progress=False).circuit(0.001)
        finally:
            os.environ['CNA_NB_STATS_CACHE'] = '0'
            if old is None: os.environ.pop('CNA_NB_CACHE')
            else: os.environ['CNA_NB_CACHE'] = old
    res['rerun'] = t.s; rows.append(dict(method='cna_nb rerun (statistics cache hit)', seconds=f"{t.s:.2f}"))
    ours_set = {(int(l), int(n)) for l, n in zip(ours.layers, ours.neurons)}
    # float32 is the same computation however it is batched: the circuits must be identical. In bfloat16 the one-prompt loop rounds
    # differently shaped products, so neurons near the top-k edge may swap: same criterion as the dtype comparison in 01_models
    # (Jaccard ≥ 0.9: the same mechanism; random circuits of this size share ~0). The rerun reads the cache: identical in both.
    bf16 = model.dtype != torch.float32
    def agrees(other):
        j = len(other & ours_set) / len(other | ours_set)
        return (j >= 0.9 if bf16 else j == 1.0), j
    again_set = {(int(l), int(n)) for l, n in zip(again.layers, again.neurons)}
    same = [('rerun', (again_set == ours_set, len(again_set & ours_set) / len(again_set | ours_set)))]
    if not a.skip_naive:
        with Timer() as t: naive = naive_discovery(model, tok, pos, neg, n_select(ours.shape))
        res['naive'] = t.s; rows.append(dict(method='naive: one prompt at a time, per-neuron Python', seconds=f"{t.s:.1f}"))
        same.append(('naive', agrees(naive)))
    for r in rows: r['× cna_nb'] = f"{float(r['seconds'])/res['ours']:.2f}"
    for r in rows: r['dtype'] = str(model.dtype).replace('torch.', '')
    print(table(rows, ['method', 'dtype', 'seconds', '× cna_nb']))
    crit = 'Jaccard ≥ 0.9 (bfloat16)' if bf16 else 'identical (float32)'
    print(f"\ncircuit: {len(ours)} neurons; same as ({crit}) " + ', '.join(f"{n}: {'yes' if v else 'NO'} (Jaccard {j:.3f})" for n, (v, j) in same))
    print(f"peak RSS {peak_rss_gb():.2f} GB\n")
    checks = [(f"cna_nb / full forward = {res['ours']/res['full']:.2f} ≤ 0.6", res['ours'] <= 0.6*res['full'])]
    if 'naive' in res: checks.append((f"naive / cna_nb = {res['naive']/res['ours']:.1f} ≥ 3", res['naive'] >= 3*res['ours']))
    checks.append((f'same circuit, {crit}', all(v for _, (v, _) in same)))
    print(verdict('discovery', checks))


if __name__ == '__main__': main()
