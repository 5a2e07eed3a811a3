"""Benchmark 2 — steered greedy generation, 32 JBB harmful prompts × 64 new tokens, embedded 0.5B.

Part A, fixed work (every prompt generates exactly 64 tokens, end tokens ignored), so the rows differ only in steering cost:
  unsteered (floor) · hook steering · weight-baked steering — all through `cna_nb.generate`, one batch of 32.
Part B, real replies (stop at the end-of-turn token), hook steering with the discovered 0.1% circuit at m=0:
  cna_nb batched · transformers `model.generate` batched (left padding, same batch) · one prompt at a time (`model.generate`, hooks
  registered per prompt: the reference pattern).
Also counts how many replies are identical between the implementations.

    python benchmarks/generation.py [--n 32] [--tokens 64] [--batch-size 32]
"""
import argparse, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict, left_padded
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=32)
    ap.add_argument('--tokens', type=int, default=64)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16', 'auto'], help='model dtype (benchmarks/dtype.py compares the two side by side)')
    a = ap.parse_args()
    from cna_nb.models import load_model
    from cna_nb.data import load_discovery, jbb_prompts
    from cna_nb.prompts import format_prompts, eos_ids
    from cna_nb.decoding import generate
    from cna_nb.interventions import steer
    from cna_nb.circuit import find_circuit
    header(f"steered generation benchmark: {a.n} JBB prompts × {a.tokens} tokens, embedded 0.5B in {a.dtype}, batch {a.batch_size}")
    model, tok = load_model(dtype=a.dtype)
    circ = find_circuit(model, tok, *load_discovery(), progress=False)      # statistics cache: instant after the first run
    prompts = jbb_prompts(a.n)
    print(f"circuit: {len(circ)} neurons; prompts: {len(prompts)}\n", flush=True)
    gen = lambda **kw: generate(model, tok, prompts, max_new_tokens=a.tokens, batch_size=a.batch_size, progress=False, **kw)

    rows, res = [], {}
    with Timer() as t: gen(stop_at_eos=False)
    res['floor'] = t.s
    with Timer() as t:
        with steer(model, circ, 0.0): gen(stop_at_eos=False)
    res['hook'] = t.s
    with Timer() as t:
        with steer(model, circ, 0.0, method='weights'): gen(stop_at_eos=False)
    res['weights'] = t.s
    for k, name in [('floor', 'unsteered (floor)'), ('hook', 'hook steering m=0'), ('weights', 'weight-baked steering m=0')]:
        rows.append(dict(part='A fixed 64 tokens', method=name, seconds=f"{res[k]:.1f}", tokens=a.n*a.tokens, ratio=f"{res[k]/res['floor']:.3f} × floor"))

    with Timer() as t:
        with steer(model, circ, 0.0): ours = gen()
    res['ours'] = t.s
    texts = format_prompts(tok, prompts); eos = eos_ids(model, tok)
    kw = dict(max_new_tokens=a.tokens, do_sample=False, temperature=None, top_p=None, top_k=None, pad_token_id=tok.pad_token_id, eos_token_id=eos)
    def hf(batch):
        out = []
        with torch.no_grad():
            for s in range(0, len(texts), batch):
                enc = left_padded(tok, texts[s:s+batch]); enc.pop('position_ids')
                with steer(model, circ, 0.0):            # hooks registered per call, as a per-prompt loop does
                    seqs = model.generate(**enc, **kw)
                out += [x.strip() for x in tok.batch_decode(seqs[:, enc['input_ids'].shape[1]:], skip_special_tokens=True)]
        return out
    with Timer() as t: hf_b = hf(a.batch_size)
    res['hf_batched'] = t.s
    with Timer() as t: one = hf(1)
    res['one'] = t.s
    n_tok = sum(len(tok(r, add_special_tokens=False)['input_ids']) for r in ours)
    for k, name in [('ours', 'cna_nb generate, batched'), ('hf_batched', 'transformers generate, batched'), ('one', 'one prompt at a time (transformers)')]:
        rows.append(dict(part='B real replies', method=name, seconds=f"{res[k]:.1f}", tokens=f"≈{n_tok}", ratio=f"{res[k]/res['ours']:.2f} × cna_nb"))
    for r in rows: r['dtype'] = str(model.dtype).replace('torch.', '')   # what --dtype auto resolved to
    print(table(rows, ['part', 'method', 'dtype', 'seconds', 'tokens', 'ratio']))
    same_hf = sum(x == y for x, y in zip(ours, hf_b)); same_one = sum(x == y for x, y in zip(ours, one))
    print(f"\nidentical replies: cna_nb vs transformers batched {same_hf}/{len(ours)}, vs one at a time {same_one}/{len(ours)} "
          f"(greedy ties can flip on float rounding when batch shapes differ)\n")
    print(verdict('steered generation', [
        (f"hook / unsteered = {res['hook']/res['floor']:.3f} ≤ 1.05", res['hook'] <= 1.05*res['floor']),
        (f"one-at-a-time / cna_nb = {res['one']/res['ours']:.1f} ≥ 4", res['one'] >= 4*res['ours'])]))


if __name__ == '__main__': main()
