"""Benchmark 8 — what the probe judge costs beside generation, in one run on this machine.

For each model: generate greedy replies to N JBB prompts (48 new tokens, the package default, batch 64, unsteered: the cost of one
condition of `cna run`), then judge the same (prompt, reply) pairs with the shipped probe judge (its reader: the embedded 0.5B, in the
dtype `auto` picks here, stopping after its probed layer). Prints both wall times and the ratio judge / generation (target ≤ 0.20).
The judge's reader is loaded before timing starts. After a small warm-up, the two phases are timed in `--rounds` alternating rounds
(generate, judge, generate, judge, …) on the same prompts: the ratio is the median over rounds of judge_s / generate_s, with its
range; the first round (kernels for new shapes not yet prepared) is shown as well. Single timings on a shared 2-core machine
vary by ±20%, more than the margin the target leaves, so one round alone decides nothing.

    python benchmarks/judge_cost.py [--n 100] [--rounds 3] [--models qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct]
                                    [--judge cna_nb/assets/judge/probe.json,cna_nb/assets/judge/families.json] [--target 0.25]
    (--judge: judge files timed in the same rounds, each round generating once and then judging with each; default: the shipped one)
"""
import argparse, os, statistics, sys
sys.path.insert(0, os.path.dirname(__file__))
from _common import Timer, header, table, verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--models', default='qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct')
    ap.add_argument('--judge', default=None, help='judge files (fit_judge), comma-separated, timed in the same rounds; default: '
                                                  'the default judge (judge/families.json)')
    ap.add_argument('--target', type=float, default=0.20, help='the ratio the verdict asks for (issue 39: 0.25)')
    a = ap.parse_args()
    if a.rounds < 1: ap.error(f"--rounds must be at least 1, got {a.rounds}")
    from cna_nb.models import load_model
    from cna_nb.data import jbb_prompts
    from cna_nb.decoding import generate
    from cna_nb.defaults import MAX_NEW_TOKENS, RUN_BATCH
    from cna_nb.probe import default_judge, ProbeJudge
    header(__doc__.splitlines()[0])
    judges = [ProbeJudge(f) for f in a.judge.split(',')] if a.judge else [default_judge()]
    for judge in judges: judge._reader(); print(f"judge: {judge!r} ({judge.path.name})")
    prompts, rows = jbb_prompts(a.n), []
    for judge in judges: judge.scores(prompts[:4], ['warm-up'] * 4)
    for name in a.models.split(','):
        model, tok = load_model(name)
        generate(model, tok, prompts[:2], max_new_tokens=4, batch_size=2, progress=False)
        gs, js, vs = [], [[] for _ in judges], [None] * len(judges)
        for r in range(a.rounds):       # each round: generate, then every judge on the same replies
            with Timer() as g: replies = generate(model, tok, prompts, max_new_tokens=MAX_NEW_TOKENS, batch_size=RUN_BATCH,
                                                  progress=False)
            gs.append(g.s)
            for k, judge in enumerate(judges):
                with Timer() as j: vs[k] = judge.scores(prompts, replies)
                js[k].append(j.s)
        for judge, jk, v in zip(judges, js, vs):
            ratios = [j / g for g, j in zip(gs, jk)]
            rows.append(dict(model=name, dtype=str(model.dtype).replace('torch.', ''), judge=f"{judge.path.name} (layer "
                             f"{judge.spec['layer']})", replies=len(replies), rounds=a.rounds,
                             generate_s=f'{statistics.median(gs):.1f}', judge_s=f'{statistics.median(jk):.1f}',
                             ratio=f'{statistics.median(ratios):.4f}', ratio_range=f'{min(ratios):.4f}–{max(ratios):.4f}',
                             first_round=f'{ratios[0]:.4f}', judge_refused=int((v.judge_verdict == 'refused').sum())))
        del model
    print(table(rows, list(rows[0])))
    print(verdict('judge cost', [(f"{r['model']}, {r['judge']}: median judge / generation = {r['ratio']} ≤ {a.target}",
                                  float(r['ratio']) <= a.target)
                                 for r in rows]))


if __name__ == '__main__':
    main()
