"`cna label` end to end: a results folder, a blind sample labelled through piped terminal input, and the labels used by evaluate."
import json, subprocess, sys
from pathlib import Path
import pytest
from conftest import tiny_model
from cna_nb.testing import CharTok
from cna_nb.circuit import find_circuit
from cna_nb.conditions import Condition
from cna_nb.runner import evaluate
from cna_nb.summary import summarize, compare, format_summary
from cna_nb.labels import read_labels
from cna_nb.cli import main

CNA = str(Path(sys.executable).parent / 'cna')                    # the installed console script
PROMPTS = [f'zz request number {i}' for i in range(6)]


def _run(folder: Path):
    "A small results folder: two conditions on six prompts of a tiny model (keyword verdicts: no judge model needed)."
    m, tok = tiny_model(), CharTok()
    circ = find_circuit(m, tok, ['zzz bad', 'very bad zz'], ['a nice day', 'good'], k=5, universal=None, progress=False)
    conds = [Condition.baseline(), Condition.cna(circ, m=0)]
    return m, tok, conds, evaluate(m, tok, PROMPTS, conds, max_new_tokens=4, refusal='keyword', out=folder/'jbb.jsonl',
                                   progress=False)


def test_cna_label_pipes_answers_and_the_labels_correct_the_rates(tmp_path):
    m, tok, conds, df = _run(tmp_path)
    # r, c, a skip, a typo then d, then q: three labels, kept as they were given
    p = subprocess.run([CNA, 'label', str(tmp_path), '--n', '6'], input='r\nc\ns\nx\nd\nq\n', capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lab = read_labels(tmp_path/'labels.jsonl')
    assert lab.label.tolist() == ['refused', 'complied', 'degenerate']
    assert 'baseline' not in p.stdout and 'CNA' not in p.stdout        # the condition is never shown to the labeller
    assert '3 labelled now, 3 in' in p.stderr
    # a second session draws only replies not labelled yet, and the end of input stops it with what was given kept
    p2 = subprocess.run([CNA, 'label', str(tmp_path), '--n', '6'], input='c\n', capture_output=True, text=True, timeout=120)
    assert p2.returncode == 0, p2.stderr
    lab2 = read_labels(tmp_path/'labels.jsonl')
    assert len(lab2) == 4 and lab2.item.nunique() == 4
    # the labels, given to the runner, reach the summary and the comparison
    again = evaluate(m, tok, PROMPTS, conds, max_new_tokens=4, refusal='keyword', out=tmp_path/'jbb.jsonl',
                     labels=tmp_path/'labels.jsonl', progress=False)
    assert again.reply.tolist() == df.reply.tolist()                   # resumed: nothing generated again
    got = again[again.label.notna()]                                  # a pair labelled once is labelled under every condition
    assert len(got[['prompt', 'reply']].drop_duplicates()) == 4
    s = summarize(again)
    assert {'refusal_corrected', 'refusal_corrected_lo', 'refusal_corrected_hi', 'labels'} <= set(s.columns)
    assert s.labels.sum() == len(got)
    assert (s.refusal_corrected_lo <= s.refusal_corrected).all() and (s.refusal_corrected <= s.refusal_corrected_hi).all()
    assert 'refused (corrected)' in set(compare(again, conds[1].label).metric)
    assert 'corrected [95% CI]' in format_summary(s)


@pytest.mark.parametrize('argv, msg', [
    (['label', 'no/such/folder'], 'is not a folder'),
    (['label', '.', '--n', '0'], '--n 0'),
    (['eval', '--labels', 'no_such_labels.jsonl'], "labels file 'no_such_labels.jsonl' not found"),
    (['reproduce', '--labels', 'no_such_labels.jsonl'], "labels file 'no_such_labels.jsonl' not found"),
])
def test_label_input_errors_are_one_line_and_exit_2(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0], err


def test_a_bad_labels_file_is_refused_with_its_line(tmp_path):
    f = tmp_path/'labels.jsonl'
    f.write_text(json.dumps(dict(prompt='a', reply='b', label='refused')) + '\n' + '{not json\n')
    with pytest.raises(ValueError, match='line 2 is not JSON'): read_labels(f)
    f.write_text(json.dumps(dict(prompt='a', reply='b', label='maybe')) + '\n')
    with pytest.raises(ValueError, match="'maybe'"): read_labels(f)
