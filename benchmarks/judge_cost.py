"""Benchmark 8 — what the probe judge costs beside generation, in one run on this machine.

For each model: generate greedy replies to N JBB prompts (48 new tokens, the package default, batch 64, unsteered: the cost of one
condition of `cna run`), then judge the same (prompt, reply) pairs with the shipped probe judge (its reader: the embedded 0.5B, in the
dtype `auto` picks here, stopping after its probed layer). Prints both wall times and the ratio judge / generation (target ≤ 0.20).
The judge's reader is loaded before timing starts; each phase is timed once after a warm-up batch.

    python benchmarks/judge_cost.py [--n 100] [--models qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct]
"""
import argparse, os, sys
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--models', default='qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct')
    a = ap.parse_args()
    from cna_nb.models import load_model
    from cna_nb.data import jbb_prompts
    from cna_nb.decoding import generate
    from cna_nb.defaults import MAX_NEW_TOKENS, RUN_BATCH
    from cna_nb.probe import default_judge
    header(__doc__.splitlines()[0])
    judge = default_judge(); judge._reader()
    prompts, rows = jbb_prompts(a.n), []
    judge.scores(prompts[:4], ['warm-up'] * 4)
    for name in a.models.split(','):
        model, tok = load_model(name)
        generate(model, tok, prompts[:2], max_new_tokens=4, batch_size=2, progress=False)
        with Timer() as g: replies = generate(model, tok, prompts, max_new_tokens=MAX_NEW_TOKENS, batch_size=RUN_BATCH, progress=False)
        with Timer() as j: v = judge.scores(prompts, replies)
        rows.append(dict(model=name, dtype=str(model.dtype).replace('torch.', ''), replies=len(replies),
                         generate_s=f'{g.s:.1f}', judge_s=f'{j.s:.1f}', ratio=f'{j.s / g.s:.3f}',
                         judge_refused=int((v.judge_verdict == 'refused').sum())))
        del model
    print(table(rows, list(rows[0])))
    print(verdict('judge cost', [(f"{r['model']}: judge / generation = {r['ratio']} ≤ 0.20", float(r['ratio']) <= 0.20) for r in rows]))


if __name__ == '__main__':
    main()
