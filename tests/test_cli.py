"The `cna` command line: parser, input errors, and every subcommand end to end on tiny local models (with the embedded model's tokenizer)."
import json, subprocess, sys
from pathlib import Path
import pandas as pd, pytest, torch
from conftest import tiny_model
from cna_nb.cli import build_parser, main
from cna_nb.circuit import Circuit


@pytest.fixture(scope='module')
def prompt_files(tmp_path_factory):
    d = tmp_path_factory.mktemp('prompts')
    (d/'pos.txt').write_text('\n'.join(f'Réponds en français, question {i} : quelle heure est-il ?' for i in range(8)) + '\n')
    (d/'neg.csv').write_text('prompt\n' + '\n'.join(f'"Answer in English, question {i}: what time is it?"' for i in range(8)) + '\n')
    return d


def test_help_lists_subcommands():
    out = subprocess.run([str(Path(sys.executable).parent / 'cna'), '--help'], capture_output=True, text=True)   # the installed console script
    assert out.returncode == 0
    for cmd in ('prepare', 'run', 'discover', 'steer', 'eval', 'compare', 'examples:'): assert cmd in out.stdout
    sub = subprocess.run([str(Path(sys.executable).parent / 'cna'), 'eval', '--help'], capture_output=True, text=True)
    assert sub.returncode == 0 and 'caa:alpha=' in sub.stdout and '--conditions' in sub.stdout


def test_full_sets_paper_size():
    a = build_parser().parse_args(['run', '--full'])
    assert a.full and a.limit == 100


@pytest.mark.parametrize('argv, msg', [
    (['run', '--limit', '0'], '--limit'),
    (['discover', '--positive', 'missing.txt', '--negative', 'benign'], 'not found'),
    (['eval', '--conditions', 'cna:m=0'], 'need --circuit'),
    (['eval', '--conditions', 'baseline', 'wobble=1'], 'unknown condition'),
    (['steer', '--circuit', 'nowhere.pt', '--prompt', 'hi'], 'not found'),                    # checked before any model loads
    (['steer', '--circuit', __file__, '--prompt', 'hi', '--model', '/nonexistent/model'], 'could not load'),
])
def test_input_errors_are_one_line_and_exit_2(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and 'Traceback' not in err


def test_discover_steer_eval_resume(tiny_dirs, prompt_files, tmp_path, capsys):
    model = str(tiny_dirs[0])
    circ = tmp_path/'fr.pt'
    assert main(['discover', '--model', model, '--positive', str(prompt_files/'pos.txt'), '--negative', str(prompt_files/'neg.csv'),
                 '--k', '5', '--universal', 'none', '--out', str(circ)]) == 0
    c = Circuit.load(circ)
    assert len(c) == 5 and (tmp_path/'fr.json').exists() and len(pd.read_csv(tmp_path/'fr_neurons.csv')) == 5
    assert c.meta['n_positive'] == 8

    assert main(['steer', '--model', model, '--circuit', str(circ), '--m', '3', '--prompt', 'Say hello', '--max-new-tokens', '4']) == 0
    out = capsys.readouterr().out
    assert 'baseline (m=1)' in out and 'steered (m=3, 5 neurons, hook)' in out

    csv = tmp_path/'ev'/'eval.csv'
    argv = ['eval', '--model', model, '--circuit', str(circ), '--prompts', str(prompt_files/'pos.txt'), '--limit', '3', '--max-new-tokens', '3',
            '--conditions', 'baseline', 'cna:m=0', 'random:m=0', 'caa:alpha=1', 'dirablate:alpha=1', '--positive', str(prompt_files/'pos.txt'),
            '--negative', str(prompt_files/'neg.csv'), '--out', str(csv)]
    assert main(argv) == 0
    df = pd.read_csv(csv)
    assert len(df) == 15 and set(df.condition) == {'baseline', 'CNA m=0', 'random m=0', 'CAA α=1', 'dirablate α=1'}
    summ = pd.read_csv(tmp_path/'ev'/'eval_summary.csv')
    assert summ.set_index('condition').loc['CNA m=0', 'neurons'] == 5
    lines = (tmp_path/'ev'/'eval.jsonl').read_text().splitlines()
    # a rerun resumes: nothing is generated again, the same rows come back
    import cna_nb.runner as M
    real = M.generate
    M.generate = lambda *a, **k: (_ for _ in ()).throw(AssertionError('generated again'))
    try: assert main(argv) == 0
    finally: M.generate = real
    assert (tmp_path/'ev'/'eval.jsonl').read_text().splitlines() == lines
    assert pd.read_csv(csv).equals(df)


def test_compare_two_models(tiny_dirs, prompt_files, tmp_path, capsys):
    out = tmp_path/'cmp'
    assert main(['compare', '--base', str(tiny_dirs[0]), '--instruct', str(tiny_dirs[1]), '--positive', str(prompt_files/'pos.txt'),
                 '--negative', str(prompt_files/'neg.csv'), '--max-new-tokens', '3', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    assert 'overlap' in text and 'localization' in text
    ov = pd.read_csv(out/'overlap.csv')
    assert {'intersection', 'jaccard'} <= set(ov.columns) and any(c.startswith('null_') for c in ov.columns)
    assert (out/'circuit_base.pt').exists() and (out/'circuit_instruct.pt').exists() and len(pd.read_csv(out/'steering.csv'))
