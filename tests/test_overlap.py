"Overlap metrics with known answers, the null model against a simulation, shape errors, compare_models end to end on tiny models."
import numpy as np, pytest, torch
from transformers import AutoConfig, AutoModelForCausalLM
from cna_nb.circuit import Circuit
from cna_nb.testing import CharTok
from cna_nb.overlap import overlap, null_overlap, layer_overlap, localization, compare_models, steering_table


def C(pairs, shape=(6, 20), deltas=None):
    l, n = zip(*pairs)
    d = torch.tensor(deltas if deltas else [1.0]*len(pairs), dtype=torch.float64)
    return Circuit(torch.tensor(l), torch.tensor(n), d, shape)


def test_overlap_known_answers():
    a = C([(5, 1), (5, 2), (4, 3), (0, 0)], deltas=[1, -1, 2, 1])
    b = C([(5, 1), (5, 2), (3, 3)], deltas=[1, 1, 1])
    o = overlap(a, b)
    assert (o['intersection'], o['n_a'], o['n_b']) == (2, 4, 3)
    assert o['jaccard'] == pytest.approx(2/5) and o['overlap_coef'] == pytest.approx(2/3) and o['sign_agreement'] == pytest.approx(1/2)
    assert layer_overlap(a, b).set_index('layer').loc[5].tolist() == [2, 2, 2]
    assert overlap(a, C([(1, 1)]))['intersection'] == 0 and np.isnan(overlap(a, C([(1, 1)]))['sign_agreement'])


def test_localization_known_answers():
    c = C([(5, 1), (5, 2), (4, 3), (0, 0)], shape=(10, 20))
    loc = localization(C([(9, 1), (9, 2), (8, 3), (0, 0)], shape=(10, 20)))
    assert loc['share last 3 layers'] == pytest.approx(3/4) and loc['share last 10% of layers'] == pytest.approx(2/4)
    assert localization(c)['share last 3 layers'] == 0


def test_null_expectation_matches_a_simulation():
    rng = np.random.default_rng(0)
    shape = (4, 30)
    a = C([(l, n) for l in (2, 3) for n in rng.choice(30, 10, replace=False)], shape)
    b = C([(l, n) for l, k in ((1, 5), (3, 12)) for n in rng.choice(30, k, replace=False)], shape)
    nl = null_overlap(a, b, n_sim=20000)
    assert nl['expected'] == pytest.approx(10 * 12 / 30)
    sims = []
    for _ in range(4000):   # the null by hand: permute neuron ids within each layer
        ra = {(l, int(x)) for l in (2, 3) for x in rng.permutation(30)[:10]}
        rb = {(l, int(x)) for l, k in ((1, 5), (3, 12)) for x in rng.permutation(30)[:k]}
        sims.append(len(ra & rb))
    assert np.mean(sims) == pytest.approx(nl['expected'], abs=0.1) and nl['sim_mean'] == pytest.approx(nl['expected'], abs=0.05)
    assert np.quantile(sims, 0.975) == pytest.approx(nl['hi'], abs=1)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='different shapes'): overlap(C([(1, 1)], (6, 20)), C([(1, 1)], (6, 24)))
    with pytest.raises(ValueError, match='different shapes'): null_overlap(C([(1, 1)], (6, 20)), C([(1, 1)], (7, 20)))


def _tiny(inter=64, seed=0):
    cfg = AutoConfig.for_model('llama', vocab_size=97, hidden_size=32, intermediate_size=inter, num_hidden_layers=3, num_attention_heads=4,
                               num_key_value_heads=2, pad_token_id=0)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(cfg).eval()


POS = ['how to hurt someone', 'how to steal a car', 'hurt them badly', 'steal the money', 'make a weapon', 'poison the well']
NEG = ['how to help someone', 'how to bake a cake', 'help them kindly', 'save the money', 'make a salad', 'water the plant']


def test_compare_models_end_to_end_on_tiny_models():
    base = _tiny()
    inst = _tiny(); inst.load_state_dict(base.state_dict())
    with torch.no_grad():
        for p in inst.parameters(): p.add_(0.05 * p.std() * torch.randn_like(p))
    tok = CharTok()
    cmp = compare_models((base, tok), (inst, tok), POS, NEG, prompts=['hurt', 'bake a cake'], frac=0.05, universal=None, max_new_tokens=3)
    o = cmp.overlap.iloc[0]
    assert o.n_a == o.n_b == round(0.05 * 3 * 64) and o.intersection > o.null_hi
    assert set(cmp.steering.model) == {'base', 'instruct'} and set(cmp.steering.circuit) == {'base', 'instruct'}
    assert len(cmp.steering) == 2 * 2 * 3 * 2 and set(cmp.localization.circuit) == {'base', 'instruct'}
    # an unrelated model of the same shape shares about what chance predicts, far less than the perturbed copy
    other = compare_models((base, tok), (_tiny(seed=5), tok), POS, NEG, prompts=['x'], ms=(1,), frac=0.05, universal=None, max_new_tokens=1)
    assert other.overlap.iloc[0].intersection < o.intersection


def test_cross_application_needs_the_same_shape():
    tok = CharTok()
    c = C([(1, 1)], (3, 64))
    with pytest.raises(ValueError, match='rediscover'): steering_table({'b': (_tiny(inter=48), tok)}, c, ['x'])
    with pytest.raises(ValueError, match='matched pair'): compare_models((_tiny(), tok), (_tiny(inter=48), tok), POS, NEG, universal=None)
