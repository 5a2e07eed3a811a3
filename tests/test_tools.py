"Helpers in tools/ that the notebooks' outputs depend on."
import importlib.util, json
from pathlib import Path

def load(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent.parent/'tools'/f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); return mod

def test_strip_keeps_the_last_drawing_of_a_progress_bar(tmp_path):
    sw = load('strip_widgets')
    assert sw.last_redraw('\rLoading:   0%\rLoading:  50%\rLoading: 100%\nnext line\n') == 'Loading: 100%\nnext line\n'
    assert sw.last_redraw('plain text\n') == 'plain text\n'
    nb = {'cells': [{'cell_type': 'code', 'source': [], 'outputs': [
        {'output_type': 'stream', 'name': 'stderr', 'text': ['\r', 'bar  0%\r', 'bar 100%\n', 'done\n']},
        {'output_type': 'display_data', 'data': {'application/vnd.jupyter.widget-view+json': {}}, 'metadata': {}}]}],
        'metadata': {'widgets': {}}, 'nbformat': 4, 'nbformat_minor': 5}
    p = tmp_path/'x.ipynb'; p.write_text(json.dumps(nb))
    assert sw.strip(p) and not sw.strip(p)                       # changed once, then nothing left to change
    out = json.loads(p.read_text())
    assert out['cells'][0]['outputs'] == [{'output_type': 'stream', 'name': 'stderr', 'text': ['bar 100%\n', 'done\n']}]
    assert 'widgets' not in out['metadata']
