"""The documentation site (`bash docs.sh`, tools/docs.py): built from the notebooks, offline, then opened page by page in headless
Chromium driven over its DevTools protocol — every page loads with no console error and fetches nothing from the network, every
image is drawn, every internal link resolves (file and anchor), and the search box finds `find_circuit` and lands on its reference.

    .venv/bin/python tests/test_docs.py --shots nbs/images     # the committed screenshots (home page, one API page)
"""
import base64, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')


def build(out: Path) -> Path:
    "Build the site into `out` (sources beside it) with the one command's script; the site's folder."
    r = subprocess.run([sys.executable, str(ROOT/'tools/docs.py'), '--src', str(out/'src'), '--out', str(out/'site')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out/'site'


class Browser:
    "Headless Chromium on a DevTools websocket: navigate, evaluate, collect console errors and every request's URL."
    def __init__(self, size=(1300, 900)):
        import websocket
        self.dir = tempfile.mkdtemp(prefix='cna_docs_chrome_')
        with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
        self.proc = subprocess.Popen([CHROMIUM, '--headless=new', '--no-sandbox', '--disable-gpu', f'--remote-debugging-port={port}',
                                      f'--user-data-dir={self.dir}', f'--window-size={size[0]},{size[1]}', '--no-first-run',
                                      '--host-resolver-rules=MAP * ~NOTFOUND', '--allow-file-access-from-files', 'about:blank'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        page = None
        for _ in range(200):                      # the endpoint, then its about:blank page target, may take a moment
            try: page = next((p for p in json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/json', timeout=1))
                              if p['type'] == 'page'), None)
            except OSError: pass
            if page: break
            time.sleep(0.1)
        else: raise RuntimeError("chromium's DevTools endpoint never showed a page")
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=30, suppress_origin=True)
        self.n, self.events = 0, []
        for m in ('Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable'): self.call(m)
        self.call('Emulation.setDeviceMetricsOverride', width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.n += 1; self.ws.send(json.dumps({'id': self.n, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == self.n:
                if 'error' in msg: raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get('result', {})
            self.events.append(msg)

    def pump(self, seconds):
        "Collect events for a while (late console messages, requests)."
        self.ws.settimeout(0.05); end = time.time() + seconds
        while time.time() < end:
            try: self.events.append(json.loads(self.ws.recv()))
            except Exception: pass
        self.ws.settimeout(30)

    def wait_load(self, what, settle=0.5):
        "Until the page's load event (raise after 30 s: a page that never loads is a failure, not a pass), then a little longer."
        end = time.time() + 30
        while not any(e.get('method') == 'Page.loadEventFired' for e in self.events):
            if time.time() > end: raise TimeoutError(f"{what}: no load event in 30 s")
            self.pump(0.05)
        self.pump(settle)

    def goto(self, url, settle=0.5):
        self.events = []
        self.call('Page.navigate', url=url)
        self.wait_load(url, settle)

    def eval(self, js):
        r = self.call('Runtime.evaluate', expression=js, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f"{js[:80]}: {r['exceptionDetails']}")
        return r['result'].get('value')

    def errors(self) -> list[str]:
        "Console errors, uncaught exceptions and failed loads since the last navigation."
        out = []
        for e in self.events:
            m, p = e.get('method'), e.get('params', {})
            if m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
                out.append('console: ' + ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', [])))
            elif m == 'Runtime.exceptionThrown': out.append('exception: ' + json.dumps(p['exceptionDetails'])[:300])
            elif m == 'Log.entryAdded' and p['entry'].get('level') == 'error': out.append('log: ' + p['entry'].get('text', ''))
            elif m == 'Network.loadingFailed': out.append(f"failed load: {p.get('errorText')}")
        return out

    def requests(self) -> list[str]:
        return [e['params']['request']['url'] for e in self.events if e.get('method') == 'Network.requestWillBeSent']

    def shot(self, path):
        Path(path).write_bytes(base64.b64decode(self.call('Page.captureScreenshot', format='png')['data']))

    def close(self):
        try: self.ws.close()
        finally:
            self.proc.kill(); self.proc.wait(); shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    try: import sphinx, myst_nb, websocket      # the docs extra (bash setup.sh installs it; it needs Python >= 3.11)
    except ImportError as e:
        if os.environ.get('CNA_NB_REQUIRE_BROWSER'): pytest.fail(f"CNA_NB_REQUIRE_BROWSER is set but the docs extra is missing: {e}")
        pytest.skip(f"the docs extra is not installed ({e}): pip install -e '.[docs]'")
    if CHROMIUM is None:
        if os.environ.get('CNA_NB_REQUIRE_BROWSER'): pytest.fail("CNA_NB_REQUIRE_BROWSER is set but no chromium found")
        pytest.skip("no chromium (Debian: apt-get install chromium; CI installs it)")
    t = time.time(); s = build(tmp_path_factory.mktemp('docs'))
    print(f"site built in {time.time() - t:.0f} s")
    return s


@pytest.fixture(scope='module')
def browser():
    b = Browser(); yield b; b.close()


def pages_of(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob('*.html') if '_static' not in p.parts and p.name not in ('genindex.html',))


def test_every_notebook_and_module_has_a_page(site):
    nbs = [p for p in (ROOT/'nbs').glob('*.ipynb')] + list((ROOT/'nbs/tutorials').glob('*.ipynb'))
    for nb in nbs:
        rel = nb.relative_to(ROOT/'nbs').with_suffix('.html')
        assert (site/rel).exists(), f"no page for {nb.name}"
    for m in (ROOT/'cna_nb').glob('*.py'):
        if m.stem.startswith('_') or m.stem == 'all': continue
        assert (site/'api'/f'{m.stem}.html').exists(), f"no API page for cna_nb.{m.stem}"
    # nbdev's summary line is the page's description
    assert re.search(r'<meta content="[^"]*labels files[^"]*" name="description"', (site/'10b_labels.html').read_text())
    # a hidden cell is not on the page, an exported one is, without its directive
    page = (site/'11a_probe.html').read_text()
    text = re.sub(r'<[^>]+>', '', page)                                # the page's text, highlighting spans gone
    assert 'nbdev_export()' not in text and '#| export' not in text and 'def judge_inputs(' in text


def test_every_page_loads_offline_with_no_console_error(site, browser):
    # the check can fail: a page with a console error and one that fetches from the network are caught
    bad = site/'_bad_test_page.html'
    bad.write_text('<!doctype html><html><body><img src="https://example.invalid/x.png"><script>console.error("boom")</script></body></html>')
    try:
        browser.goto(bad.as_uri())
        assert any('boom' in e for e in browser.errors()), browser.errors()
        assert any(u.startswith('https://') for u in browser.requests())
    finally: bad.unlink()
    problems, n = [], 0
    for p in pages_of(site):
        browser.goto(p.as_uri()); n += 1
        errs = browser.errors()
        net = [u for u in browser.requests() if not u.startswith(('file://', 'data:', 'blob:'))]
        imgs = browser.eval("[...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
        broken = [s for s, ok in imgs if not ok]
        if errs or net or broken: problems.append(f"{p.relative_to(site)}: errors {errs[:3]} network {net[:3]} images {broken[:3]}")
    assert n >= 90 and not problems, '\n'.join(problems[:20])


def test_every_internal_link_resolves(site):
    ids = {}
    def anchors(f):
        if f not in ids: ids[f] = set(re.findall(r'\bid="([^"]+)"', f.read_text()))
        return ids[f]
    bad, checked = [], 0
    for p in pages_of(site):
        for href in re.findall(r'\bhref="([^"]+)"', p.read_text()):
            if href.startswith(('http://', 'https://', 'mailto:', 'javascript:')) or '{{' in href: continue
            checked += 1
            u = urlparse(href)
            target = p if not u.path else (p.parent/unquote(u.path)).resolve()
            if not target.exists(): bad.append(f"{p.relative_to(site)} -> {href}"); continue
            if u.fragment and target.suffix == '.html' and unquote(u.fragment) not in anchors(target):
                bad.append(f"{p.relative_to(site)} -> {href} (no such anchor)")
    assert checked > 3000 and not bad, (checked, '\n'.join(bad[:20]))


def test_generated_tables_are_tables(site):
    "The tables the notebooks print as Markdown (the README's, the results page's) are HTML tables on the site, not pipe text."
    for page, at_least in (('index.html', 2), ('results.html', 10)):
        html = (site/page).read_text()
        assert html.count('<table') >= at_least and '<p>| ' not in html, page


def test_search_box_finds_find_circuit(site, browser):
    browser.goto((site/'index.html').as_uri())
    # type into the page's own search box and submit it, as a reader would
    browser.events = []
    browser.eval("""(() => { const f = document.querySelector('form.bd-search'); f.querySelector('input[name=q]').value = 'find_circuit';
                             f.submit(); return true; })()""")
    browser.wait_load('the search page')                                  # the form's submit navigates to search.html?q=…
    hits = []
    for _ in range(100):
        hits = browser.eval("[...document.querySelectorAll('#search-results a')].map(a => a.href)") or []
        if hits: break
        browser.pump(0.1)
    assert 'search.html' in browser.eval('location.href') and 'q=find_circuit' in browser.eval('location.href')
    assert hits, "the search page listed nothing for find_circuit"
    assert hits[0].endswith('api/circuit.html#cna_nb.circuit.find_circuit'), hits[:5]
    browser.goto(hits[0])
    assert browser.eval("!!document.getElementById('cna_nb.circuit.find_circuit')")
    text = browser.eval("document.getElementById('cna_nb.circuit.find_circuit').parentElement.innerText")
    assert 'find_circuit' in text and 'Exported from' in text


def screenshots(dest: Path):
    "The home page and one API page at 1300×900, into `dest` (docs_home.png, docs_api.png)."
    with tempfile.TemporaryDirectory() as d:
        site = build(Path(d)); b = Browser()
        try:
            b.goto((site/'index.html').as_uri(), settle=1); b.shot(dest/'docs_home.png')
            b.goto((site/'api/circuit.html').as_uri() + '#cna_nb.circuit.find_circuit', settle=1); b.shot(dest/'docs_api.png')
        finally: b.close()
    print(f"wrote {dest/'docs_home.png'} and {dest/'docs_api.png'}")


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] != '--shots': raise SystemExit(__doc__)
    screenshots(Path(sys.argv[2]))
