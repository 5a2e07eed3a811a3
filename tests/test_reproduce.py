"""`cna reproduce` end to end on a tiny random model: the report opens in headless Chromium with no console error and every
figure in place, a run killed with Ctrl-C resumes without redoing a finished reply, and bad input fails before a model loads."""
import base64, json, os, re, shutil, signal, subprocess, sys, textwrap, time, warnings
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
SETUP = textwrap.dedent("""
    import sys, time, warnings
    from cna_nb.testing import tiny_model, CharTok
    from cna_nb.protocol import PROFILES
    big = dict(intermediate_size=256, num_hidden_layers=4)
    tiny = PROFILES['quick'].replace(frac=0.01, jbb=6, mtbench=3, heldout=4, max_new_tokens=6, fracs=(0.005, 0.02),
                base_prompts=3, batch_size=2)
    tm, tok = tiny_model(**big), CharTok()
""")


def browser(page: Path, shot: Path|None=None, size='390,844') -> tuple[str, str]:
    "(DOM after load, Chromium's log) of a page opened headless; with `shot`, a screenshot of the first screen too."
    if CHROMIUM is None:
        if os.environ.get('CNA_NB_REQUIRE_BROWSER'): pytest.fail("CNA_NB_REQUIRE_BROWSER is set but no chromium found")
        pytest.skip("no chromium (Debian: apt-get install chromium; CI installs it)")
    args = [CHROMIUM, '--headless=new', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0',
            f'--window-size={size}', '--virtual-time-budget=5000']
    dom = subprocess.run(args + ['--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120)
    if shot is not None:
        subprocess.run(args + [f'--screenshot={shot}', page.as_uri()], capture_output=True, text=True, timeout=120)
    return dom.stdout, dom.stderr


def console_errors(log: str) -> list[str]:
    """Everything the page wrote to its console, in Chromium's log (uncaught exceptions and failed loads included): the
    report has no script, so any line is an error."""
    return [l for l in log.splitlines() if ':CONSOLE' in l]


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    "A whole tiny quick-profile run with a base model, and its report."
    from cna_nb.testing import tiny_model, CharTok
    from cna_nb.protocol import PROFILES
    from cna_nb.reproduce import reproduce
    from cna_nb.report import write_report
    big = dict(intermediate_size=256, num_hidden_layers=4)
    tiny = PROFILES['quick'].replace(frac=0.01, jbb=6, mtbench=3, heldout=4, max_new_tokens=6, fracs=(0.005, 0.02),
                base_prompts=3)
    d = tmp_path_factory.mktemp('repro')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = reproduce(tiny_model(**big), CharTok(), d, tiny, base=(tiny_model(seed=1, **big), CharTok()), progress=False,
                      log=lambda s: None)
        rep = write_report(r)
    return d, rep


def test_report_opens_in_chromium(report, tmp_path):
    d, rep = report
    # the check can fail: a page with a console error is caught
    bad = tmp_path/'bad.html'; bad.write_text("<!doctype html><html><body><script>console.error('boom')</script></body></html>")
    assert console_errors(browser(bad)[1]), "the console check did not see a console.error: it would pass anything"
    shot = tmp_path/'first_screen.png'
    dom, log = browser(d/'report.html', shot)
    assert not console_errors(log), console_errors(log)
    assert rep['title'] in dom and "The paper's claims" in dom
    figures = [s for s in rep['stages'] if s['figure']]
    imgs = re.findall(r'<img alt="([^"]+) figure" src="data:image/png;base64,([^"]+)"', dom)
    assert [a for a, _ in imgs] == [s['name'] for s in figures] and len(imgs) >= 8
    for _, b in imgs: assert base64.b64decode(b)[:8] == b'\x89PNG\r\n\x1a\n'
    for c in rep['claims']: assert c['verdict'] in dom
    from PIL import Image
    im = Image.open(shot)
    assert im.size == (390, 844) and len(im.convert('L').getcolors(256)) > 20       # a drawn page, not a blank one


def test_report_json_holds_every_number(report):
    d, rep = report
    back = json.loads((d/'report.json').read_text())
    assert back == rep
    core = next(s for s in back['stages'] if s['name'] == 'core')
    assert {'refusal', 'refusal_lo', 'refusal_hi', 'keyword_refusal', 'quality'} <= set(core['tables']['summary'][0])
    assert back['provenance']['wall_seconds'] and back['provenance']['prompt_sets']['jbb']['n'] == 6
    md = (d/'report.md').read_text()
    for s in back['stages']:
        if s['figure']: assert f"]({s['figure']})" in md and (d/s['figure']).exists()


def test_resume_after_ctrl_c(tmp_path):
    "Ctrl-C mid-stage keeps every finished reply; the same call finishes the rest without redoing one."
    slow = SETUP + textwrap.dedent(f"""
        import cna_nb.runner as runner
        from cna_nb.reproduce import reproduce
        gen = runner.generate
        def slow(*a, **k): time.sleep(0.3); return gen(*a, **k)
        if sys.argv[1] == 'slow': runner.generate = slow
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                reproduce(tm, tok, {str(tmp_path)!r}, tiny, stages='core', progress=False)
        except KeyboardInterrupt: sys.exit(130)
    """)
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    # a shell that starts jobs in the background hands them SIGINT ignored: give the child Ctrl-C back
    p = subprocess.Popen([sys.executable, '-c', slow, 'slow'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    f, t0 = tmp_path/'jbb.jsonl', time.time()
    while time.time() - t0 < 120 and (not f.exists() or len(f.read_text().splitlines()) < 9): time.sleep(0.1)
    p.send_signal(signal.SIGINT); out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err.decode()[-2000:]
    before = f.read_bytes().split(b'\n')
    kept = [l for l in before[1:] if l.strip()]
    assert 8 <= len(kept) < 30                                         # stopped mid-stage: some rows, not all 6 × 5
    timings = [json.loads(l) for l in (tmp_path/'timings.jsonl').read_text().splitlines()]
    assert {'stage': 'core', 'finished': False}.items() <= timings[-1].items()
    q = subprocess.run([sys.executable, '-c', slow, 'fast'], env=env, capture_output=True, text=True, timeout=300)
    assert q.returncode == 0, q.stderr[-2000:]
    assert 'core           jbb                 5       6  ' in q.stdout and f'{30 - len(kept)}/30' in q.stdout
    after = f.read_bytes().split(b'\n')
    assert after[:len(before) - 1] == before[:-1]                       # every finished row kept, byte for byte
    rows = [json.loads(l) for l in after[1:] if l.strip()]
    keys = [(r['condition_id'], r['prompt_id']) for r in rows]
    assert len(keys) == len(set(keys)) == 30                          # nothing redone, nothing missing


def test_cli_bad_stage_fails_before_a_model_loads():
    t0 = time.time()
    r = subprocess.run([str(ROOT/'.venv/bin/cna') if (ROOT/'.venv/bin/cna').exists() else 'cna', 'reproduce', '--stages',
                        'core,sparsty', '--out', '/nonexistent/x'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("cna reproduce: error: unknown stage(s) "
                                                                              "['sparsty']")
    assert 'loaded in' not in r.stderr


def test_other_settings_are_refused(tmp_path):
    from cna_nb.testing import tiny_model, CharTok
    from cna_nb.store import check_settings
    check_settings(tmp_path, dict(model='abc', profile='quick'))
    check_settings(tmp_path, dict(model='abc', profile='quick'))       # the same settings: resumed
    with pytest.raises(ValueError, match=r"another experiment \(settings \{'profile': \('quick', 'paper'\)\}.*pass another --out"):
        check_settings(tmp_path, dict(model='abc', profile='paper'))


def test_cna_run_and_the_core_stage_make_the_same_rows(tmp_path):
    """One runner: `refusal_experiment` (behind `cna run`) and `reproduce --stages core` with the same sizes make the same rows
    (condition id, prompt, reply, verdicts) for the four conditions they share; the core stage adds directional ablation."""
    import json
    from cna_nb.testing import tiny_model, CharTok
    from cna_nb.protocol import PROFILES
    from cna_nb.reproduce import reproduce
    from cna_nb.ablation import refusal_experiment
    from cna_nb.data import load_discovery, jbb_prompts
    big = dict(intermediate_size=256, num_hidden_layers=4)
    tiny = PROFILES['quick'].replace(frac=0.01, jbb=5, max_new_tokens=5, batch_size=4)
    tm, tok = tiny_model(**big), CharTok()         # float32: the tiny model is exact, whatever `auto` means here
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        reproduce(tm, tok, tmp_path/'rep', tiny, stages='core', progress=False, log=lambda s: None)
        refusal_experiment(tm, tok, *load_discovery(), jbb_prompts(5), frac=0.01, max_new_tokens=5, batch_size=4,
                           out_dir=tmp_path/'run', progress=False)
    def rows(f):
        return {(r['condition_id'], r['prompt_id']): {k: v for k, v in r.items() if k != 'run'}
                for r in map(json.loads, f.read_text().splitlines()[1:])}
    run, core = rows(tmp_path/'run/replies.jsonl'), rows(tmp_path/'rep/jbb.jsonl')
    assert len(run) == 4 * 5 and len(core) == 5 * 5 and set(run) < set(core)
    assert all(run[k] == core[k] for k in run)
    assert {r['condition'] for r in run.values()} == {'baseline', 'CNA m=0', 'random m=0', 'CAA α=1'}
