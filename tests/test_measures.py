"""A researcher's own measure through the whole pipeline, with no hand-written statistics: the code-vs-words study of issue 30 on a
tiny model — discover a circuit for a custom binary measure, evaluate baseline / CNA m=0 / random twin, summarise (Wilson intervals),
compare (McNemar, Newcombe), draw, and the same through `cna discover`, `cna eval` and `cna steer`."""
import sys, textwrap
import matplotlib; matplotlib.use('Agg')
import pandas as pd, pytest
from cna_nb.cli import main
from cna_nb.circuit import Circuit, find_circuit
from cna_nb.conditions import Condition
from cna_nb.measures import get_measure
from cna_nb.runner import evaluate
from cna_nb.summary import summarize, compare
from cna_nb.plots import plot_conditions

CODE = ['Write a Python function that reverses a string.', 'Write Python code that sums a list.',
        'Write a Python function that checks for primes.', 'Write Python code that counts vowels.']
WORDS = ['Explain in words how to reverse a string.', 'Explain in words how to sum a list.',
         'Explain in words how to check for primes.', 'Explain in words how to count vowels.']


@pytest.fixture
def measure_module(tmp_path, monkeypatch):
    "A researcher's own measure in their own module, importable as mylab_measures:looks_like_code."
    (tmp_path/'mylab_measures.py').write_text(textwrap.dedent('''
        from cna_nb.measures import Measure
        looks_like_code = Measure('looks_like_code', lambda prompt, reply: any(c in reply for c in '()=:[]') if reply else None,
                                  description='the reply holds code punctuation')
        '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop('mylab_measures', None)
    return 'mylab_measures:looks_like_code'


def test_own_measure_through_evaluate_summarize_compare_plot(tiny_dirs, measure_module):
    from cna_nb.models import load_model
    model, tok = load_model(str(tiny_dirs[0]))
    m = get_measure(measure_module)
    circ = find_circuit(model, tok, CODE, WORDS, k=6, universal=None, progress=False)
    conds = [Condition.baseline(), Condition.cna(circ, m=0), Condition.random(circ, m=0, seed=0)]
    df = evaluate(model, tok, CODE + WORDS, conds, max_new_tokens=6, batch_size=4, measures=[m], progress=False)
    assert df.attrs['measures']['looks_like_code'] == 'binary' and set(df.looks_like_code.dropna()) <= {0.0, 1.0}
    s = summarize(df).set_index('condition')                     # the declared measure is summarised without being named
    for c in ('looks_like_code', 'looks_like_code_lo', 'looks_like_code_hi', 'looks_like_code_n', 'looks_like_code_k'): assert c in s
    assert (s.looks_like_code_hi - s.looks_like_code_lo > 0.1).all()     # N = 8: Wilson intervals, never a point
    c = compare(df, 'CNA m=0', metrics=['looks_like_code', 'quality']).set_index('metric')
    assert c.loc['looks_like_code', 'test'] == 'McNemar exact' and c.loc['looks_like_code', 'interval'] == 'Newcombe'
    assert c.loc['quality', 'test'] == 'paired bootstrap'
    assert c.loc['looks_like_code', 'diff_lo'] <= c.loc['looks_like_code', 'diff'] <= c.loc['looks_like_code', 'diff_hi']
    fig = plot_conditions(summarize(df), metrics=['looks_like_code', 'quality'])
    assert [a.get_ylabel() for a in fig.axes] == ['looks_like_code (rate)', 'quality (mean)']


def test_rates_at_n16_with_0_or_16_events_are_not_points():
    from cna_nb.stats import rate_ci, paired_rate_diff
    for k in (0, 16):
        for method in ('wilson', 'exact'):
            r = rate_ci([float(k > 0)] * 16, method)
            assert r['hi'] - r['lo'] > 0.15, (k, method, r)
    d = paired_rate_diff([0] * 16, [1] * 16)                     # every prompt flipped
    assert d['diff'] == -1.0 and d['hi'] > -0.8


def test_own_measure_through_the_commands(tiny_dirs, measure_module, tmp_path, capsys):
    model = str(tiny_dirs[0])
    (tmp_path/'code.txt').write_text('\n'.join(CODE) + '\n'); (tmp_path/'words.txt').write_text('\n'.join(WORDS) + '\n')
    circ = tmp_path/'code.pt'
    assert main(['discover', '--model', model, '--positive', str(tmp_path/'code.txt'), '--negative', str(tmp_path/'words.txt'),
                 '--k', '5', '--universal', 'none', '--measure', measure_module, '--out', str(circ)]) == 0
    assert Circuit.load(circ).meta['measure'] == measure_module     # what `get_measure` finds again
    capsys.readouterr()
    assert main(['steer', '--model', model, '--circuit', str(circ), '--m', '0', '--prompt', CODE[0], '--max-new-tokens', '4']) == 0
    out = capsys.readouterr().out
    assert 'looks_like_code: ' in out and '(judge; keywords' not in out      # the circuit's measure, not a refusal verdict
    csv = tmp_path/'ev'/'eval.csv'
    assert main(['eval', '--model', model, '--circuit', str(circ), '--prompts', str(tmp_path/'code.txt'), '--max-new-tokens', '4',
                 '--conditions', 'baseline', 'cna:m=0', 'random:m=0', '--out', str(csv)]) == 0
    out = capsys.readouterr().out
    assert 'looks_like_code [95% CI]' in out
    summ = pd.read_csv(tmp_path/'ev'/'eval_summary.csv')
    assert {'looks_like_code', 'looks_like_code_lo', 'looks_like_code_hi'} <= set(summ.columns)
    assert main(['eval', '--model', model, '--prompts', str(tmp_path/'code.txt'), '--conditions', 'baseline', '--measure', 'codee',
                 '--out', str(tmp_path/'x.csv')]) == 2
    assert "unknown measure 'codee'" in capsys.readouterr().err
