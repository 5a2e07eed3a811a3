"Circuit discovery is deterministic, exact in size, and its files are safe to reuse."
import pytest, torch
from conftest import tiny_model, PROMPTS
from cna_nb.deltas import contrast
from cna_nb.circuit import Circuit
from cna_nb.deltas import select_top
from cna_nb.circuit import find_circuit
from cna_nb.universal import find_universal
from cna_nb.circuit import random_circuit
from cna_nb.interventions import steer

POS, NEG = ['bad thing one', 'bad thing two', 'very bad'], ['good thing one', 'nice', 'fine thing']


def test_same_inputs_same_circuit(ctok):
    a = find_circuit(tiny_model(), ctok, POS, NEG, k=7, universal=None, progress=False)
    b = find_circuit(tiny_model(), ctok, POS, NEG, k=7, universal=None, progress=False, batch_size=1)
    assert torch.equal(a.layers, b.layers) and torch.equal(a.neurons, b.neurons)
    torch.testing.assert_close(a.deltas, b.deltas, atol=1e-5, rtol=0)


def test_exclusion_still_returns_k_and_never_selects_excluded(ctok):
    m = tiny_model()
    con = contrast(m, ctok, POS, NEG, progress=False)
    top = con.circuit(k=10, exclude=False)
    ex = torch.zeros(3, 48, dtype=torch.bool); ex[top.layers[:4], top.neurons[:4]] = True
    con.exclude = ex
    c = con.circuit(k=10)
    assert len(c) == 10 and not ex[c.layers, c.neurons].any()
    assert set(zip(c.layers.tolist(), c.neurons.tolist())) >= set(zip(top.layers[4:].tolist(), top.neurons[4:].tolist()))


def test_default_fraction_is_a_tenth_of_a_percent():
    assert len(select_top(torch.randn(24, 4864, dtype=torch.float64))[0]) == 117


def test_save_load_roundtrip_and_shape_guard(tmp_path, ctok):
    m = tiny_model()
    c = find_circuit(m, ctok, POS, NEG, k=5, universal=None, progress=False)
    p = c.save(tmp_path / 'c.pt')
    assert not list(tmp_path.glob('*.tmp'))
    back = Circuit.load(p, model=m)
    assert torch.equal(back.neurons, c.neurons) and back.meta['positive_hash'] == c.meta['positive_hash']
    wrong = Circuit(c.layers, c.neurons, c.deltas, (3, 64), c.meta)
    with pytest.raises(ValueError, match='rediscover'):
        with steer(m, wrong): pass


def test_random_control_matches_layer_profile(ctok):
    c = find_circuit(tiny_model(), ctok, POS, NEG, k=12, universal=None, progress=False)
    r = random_circuit(c, seed=3)
    assert r.layer_counts().tolist() == c.layer_counts().tolist()
    assert not set(zip(r.layers.tolist(), r.neurons.tolist())) & set(zip(c.layers.tolist(), c.neurons.tolist()))


def test_universal_thresholds_are_parameters(ctok):
    m = tiny_model()
    loose = find_universal(m, ctok, PROMPTS, top_frac=0.1, min_share=0.25, progress=False)
    strict = find_universal(m, ctok, PROMPTS, top_frac=0.1, min_share=1.0, progress=False)
    assert len(strict) <= len(loose) and (strict.mask <= loose.mask).all()
    with pytest.raises(ValueError, match='min_share'): find_universal(m, ctok, PROMPTS, min_share=0)


def test_stored_statistics_are_reused_only_for_the_same_capture(tmp_path, monkeypatch, ctok):
    "A rerun of the same capture loads its statistics; other prompts, a steered model or a changed model recompute."
    from cna_nb.capture import capture, MeanStats
    from cna_nb.universal import TopAbsCounter
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    m = tiny_model('qwen2')
    first = [capture(m, ctok, PROMPTS, MeanStats(), progress=False), capture(m, ctok, PROMPTS, TopAbsCounter(), progress=False)]
    assert len(list((tmp_path/'stats').glob('*.pt'))) == 2
    def boom(*a, **k): raise AssertionError('recomputed')
    m.base_model.forward = boom                      # any forward pass now fails: a hit must come from disk
    again = [capture(m, ctok, PROMPTS, MeanStats(), progress=False), capture(m, ctok, PROMPTS, TopAbsCounter(), progress=False)]
    assert torch.equal(again[0].sum, first[0].sum) and again[0].n == first[0].n and torch.equal(again[1].counts, first[1].counts)
    with pytest.raises(AssertionError, match='recomputed'): capture(m, ctok, PROMPTS[:3], progress=False)
    with pytest.raises(AssertionError, match='recomputed'):
        with steer(m, {0: [1]}, 0.0): capture(m, ctok, PROMPTS, progress=False)
    with pytest.raises(AssertionError, match='recomputed'): capture(m, ctok, PROMPTS, progress=False, cache=False)
    del m.base_model.forward
    with steer(m, {0: [1]}, 0.0): steered = capture(m, ctok, PROMPTS, progress=False)
    assert not torch.equal(steered.sum, first[0].sum) and len(list((tmp_path/'stats').glob('*.pt'))) == 2   # a steered capture is never stored
    with torch.no_grad(): m.model.layers[0].mlp.down_proj.weight.mul_(2)   # new weights, new fingerprint
    assert not torch.equal(capture(m, ctok, PROMPTS, progress=False).sum, first[0].sum)
