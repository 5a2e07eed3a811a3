"""Remove saved widget state and widget outputs (tqdm progress bars) from the notebooks: CONTRIBUTING.md says never keep them; text progress
bars redrawn with carriage returns keep only their last state, as a terminal shows them. Run after executing a notebook; .ci/run checks
that it changes nothing."""
import json, sys
from pathlib import Path

def last_redraw(text: str) -> str:
    "What a terminal shows of `text`: of each line redrawn with carriage returns, only the last drawing."
    return '\n'.join(l.rstrip('\r').split('\r')[-1] for l in text.split('\n'))

def strip(path: Path) -> bool:
    nb = json.loads(path.read_text(encoding='utf-8'))
    before = json.dumps(nb)
    nb.get('metadata', {}).pop('widgets', None)
    for c in nb['cells']:
        if 'outputs' in c:
            c['outputs'] = [o for o in c['outputs'] if 'application/vnd.jupyter.widget-view+json' not in o.get('data', {})]
            for o in c['outputs']:
                if o.get('output_type') == 'stream' and '\r' in ''.join(o['text']):
                    o['text'] = last_redraw(''.join(o['text'])).splitlines(keepends=True)
    if json.dumps(nb) == before: return False
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return True

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent / 'nbs'
    changed = [p for p in sorted(root.rglob('*.ipynb')) if '.ipynb_checkpoints' not in p.parts and strip(p)]
    for p in changed: print('stripped widgets from', p.relative_to(root.parent))
