"Every supported family on a tiny random model: the neuron site, batched capture, steering by hook and by weights, cleanup."
import pytest, torch
from conftest import FAMILIES, tiny_model, PROMPTS
from cna_nb.architectures import neuron_shape, out_projs, decoder_layers, get_arch
from cna_nb.capture import capture, PerPrompt
from cna_nb.interventions import steer
from cna_nb.decoding import generate

FAMS = sorted(FAMILIES)


@pytest.mark.parametrize('family', FAMS)
def test_site_is_input_of_output_projection(family, ctok):
    m = tiny_model(family)
    L, N = neuron_shape(m)
    assert L == 3 and N == 48
    seen = {}
    hs = [p.register_forward_hook(lambda mod, args, out, j=j: seen.__setitem__(j, args[0][:, -1].clone())) for j, p in enumerate(out_projs(m))]
    try:
        with torch.no_grad(): m(**{k: v for k, v in ctok(['hello world'], padding=True).items()})
    finally:
        for h in hs: h.remove()
    got = capture(m, ctok, ['hello world'], PerPrompt(), progress=False).acts[0]   # [L, N]
    for j in range(L): torch.testing.assert_close(got[j], seen[j][0].float(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('family', FAMS)
def test_batched_capture_equals_single(family, ctok):
    m = tiny_model(family)
    b = capture(m, ctok, PROMPTS, PerPrompt(), batch_size=4, progress=False).acts
    s = torch.cat([capture(m, ctok, [p], PerPrompt(), progress=False).acts for p in PROMPTS])
    assert (b - s).abs().max() < 1e-5


@pytest.mark.parametrize('family', FAMS)
def test_hook_and_weights_agree_and_are_undone(family, ctok):
    m = tiny_model(family)
    x = torch.tensor([[5, 6, 7, 8, 9, 10]])
    neurons = {0: [1, 2, 40], 2: [5, 47]}
    w = [p.weight.detach().clone() for p in out_projs(m)]
    with torch.no_grad():
        base = m(x).logits
        with steer(m, neurons, 0.0): hooked = m(x).logits
        with steer(m, neurons, 0.0, method='weights'): baked = m(x).logits
        with steer(m, neurons, 2.5): hooked2 = m(x).logits
        with steer(m, neurons, 2.5, method='weights'): baked2 = m(x).logits
        after = m(x).logits
    assert (hooked - baked).abs().max() < 1e-5 and (hooked2 - baked2).abs().max() < 1e-5
    assert (hooked - base).abs().max() > 1e-6
    assert torch.equal(after, base)
    assert all(torch.equal(a, p.weight) for a, p in zip(w, out_projs(m)))
    assert not any(p._forward_pre_hooks for p in out_projs(m))


@pytest.mark.parametrize('method', ['hook', 'weights'])
def test_undone_after_exception_during_generate(method, ctok):
    m = tiny_model('qwen2')
    w = out_projs(m)[1].weight.detach().clone()
    with pytest.raises(RuntimeError, match='interrupted'):
        with steer(m, {1: [3, 4]}, 0.0, method=method):
            generate(m, ctok, PROMPTS[:2], max_new_tokens=2, progress=False)
            raise RuntimeError('interrupted')
    assert torch.equal(out_projs(m)[1].weight, w)
    assert not any(p._forward_pre_hooks for p in out_projs(m))


def test_steering_acts_on_every_generated_position(ctok):
    "Ablating all neurons of the last layer changes the greedy continuation; the hook runs on prompt and generated tokens."
    m = tiny_model('qwen2')
    calls = []
    h = out_projs(m)[2].register_forward_pre_hook(lambda mod, args: calls.append(args[0].shape[1]))
    try:
        with steer(m, {2: list(range(48))}, 0.0): generate(m, ctok, ['hello'], max_new_tokens=4, progress=False)
    finally: h.remove()
    assert len(calls) == 4 and calls[0] == 5 and calls[1:] == [1, 1, 1]   # prefill, then one position per new token


def test_unknown_architecture_names_the_fix():
    m = tiny_model('qwen2'); m.config.model_type = 'mystery'
    with pytest.raises(ValueError, match='register_architecture'): get_arch(m)


def test_steer_rejects_bad_input():
    m = tiny_model('qwen2')
    with pytest.raises(ValueError, match='out of range'):
        with steer(m, {3: [0]}): pass
    with pytest.raises(ValueError, match="method must be"):
        with steer(m, {0: [0]}, method='magic'): pass
    with pytest.raises(TypeError, match='pairs'):
        with steer(m, [(0, 1, 2)]): pass


SHARED = ['Answer in one line please. ' + p for p in PROMPTS]


@pytest.mark.parametrize('family', FAMS)
def test_prefix_cache_matches_whole_prompts(family, ctok):
    "The shared prefix's key/value cache gives the same activations and the same greedy replies as running every prompt whole."
    m = tiny_model(family)
    a = capture(m, ctok, SHARED, PerPrompt(), batch_size=3, progress=False).acts
    b = capture(m, ctok, SHARED, PerPrompt(), batch_size=3, progress=False, prefix_cache=False).acts
    assert (a - b).abs().max() < 1e-5
    assert generate(m, ctok, SHARED, max_new_tokens=6, batch_size=3, progress=False) == \
           generate(m, ctok, SHARED, max_new_tokens=6, batch_size=3, progress=False, prefix_cache=False)


@pytest.mark.parametrize('family', FAMS)
def test_generate_matches_transformers_generate(family, ctok):
    "Our decoding loop (prefix cache, finished rows leaving the batch) emits the tokens of transformers' greedy generate, one prompt at a time."
    m = tiny_model(family)
    ours = generate(m, ctok, SHARED, max_new_tokens=6, batch_size=4, progress=False)
    ref = []
    for p in SHARED:
        ids = torch.tensor([ctok([p])['input_ids'][0]])
        seq = m.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=6, do_sample=False, pad_token_id=0, eos_token_id=[1])[0, ids.shape[1]:]
        seq = seq[:(seq == 1).nonzero()[0, 0]] if (seq == 1).any() else seq   # up to the end token, which we do not return
        ref.append(ctok.batch_decode([seq.tolist()])[0])
    assert ours == ref


def test_finished_rows_leave_the_batch(ctok):
    "A row that emits the end token stops and leaves the batch; the others go on, each equal to its one-prompt-at-a-time reply."
    m = tiny_model('qwen2')
    m.generation_config.eos_token_id = None
    with torch.no_grad(): end = int(m(torch.tensor([ctok([SHARED[1]])['input_ids'][0]])).logits[0, -1].argmax())
    class EndTok(type(ctok)): eos_token_id = end        # SHARED[1]'s first greedy token ends its reply at once
    widths = []
    h = out_projs(m)[0].register_forward_pre_hook(lambda mod, args: widths.append(args[0].shape[0]))
    try: out = generate(m, EndTok(), SHARED, max_new_tokens=8, batch_size=4, progress=False)
    finally: h.remove()
    assert out == [generate(m, EndTok(), [p], max_new_tokens=8, progress=False)[0] for p in SHARED]
    assert out[1] == '' and any(out)
    assert widths[0] == 1 and widths[1] == 4 and min(widths[2:]) < 4   # prefix once, full prefill, then a smaller batch


# ---- bfloat16: the same equivalences, with the tolerances bfloat16 allows -------------------------------------------------------
# bfloat16 keeps 8 significant bits (relative spacing 2^-8 ≈ 0.4%). Measured on these tiny models: batched vs one-at-a-time capture
# differs by at most 3.4e-3 × max|activation| (less than one bfloat16 step; float32 ↔ bfloat16 differ by up to 1.2e-2), hook vs baked
# steering is bit-identical for m ∈ {0, 0.5, 2} (exact in bfloat16) and within 1% of max|logit| for m = 2.5 (the hook rounds
# m·activation, the baked path m·weight; the rounding passes through two more layers), and greedy tokens are identical. The tests allow
# two bfloat16 steps for one rounding (capture), four for logits after a differently rounded product, and nothing where no rounding differs.
BF16_STEP = 2.0 ** -8


@pytest.mark.parametrize('family', FAMS)
def test_bf16_batched_capture_equals_single(family, ctok):
    m = tiny_model(family, dtype=torch.bfloat16)
    b = capture(m, ctok, PROMPTS, PerPrompt(), batch_size=4, progress=False).acts
    s = torch.cat([capture(m, ctok, [p], PerPrompt(), progress=False).acts for p in PROMPTS])
    assert (b - s).abs().max() <= 2 * BF16_STEP * s.abs().max()
    f = capture(tiny_model(family), ctok, PROMPTS, PerPrompt(), batch_size=4, progress=False).acts   # float32: close, not equal
    assert 0 < (f - s).abs().max() <= 8 * BF16_STEP * f.abs().max()


@pytest.mark.parametrize('family', FAMS)
def test_bf16_hook_and_weights_agree_and_are_undone(family, ctok):
    m = tiny_model(family, dtype=torch.bfloat16)
    x = torch.tensor([[5, 6, 7, 8, 9, 10]])
    neurons = {0: [1, 2, 40], 2: [5, 47]}
    w = [p.weight.detach().clone() for p in out_projs(m)]
    with torch.no_grad():
        base = m(x).logits
        for mult, tol in ((0.0, 0), (0.5, 0), (2.0, 0), (2.5, 4 * BF16_STEP)):
            with steer(m, neurons, mult): hooked = m(x).logits.float()
            with steer(m, neurons, mult, method='weights'): baked = m(x).logits.float()
            assert (hooked - baked).abs().max() <= tol * hooked.abs().max(), mult
            assert hooked.dtype == torch.float32 and m.dtype == torch.bfloat16
        assert torch.equal(m(x).logits, base)
    assert all(torch.equal(a, p.weight) for a, p in zip(w, out_projs(m)))      # the bfloat16 columns are restored bit for bit
    assert not any(p._forward_pre_hooks for p in out_projs(m))


def _ref_greedy(m, ids, n):
    "transformers' own greedy `generate` for one prompt: the new tokens, cut at the end token (1)."
    seq = m.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False, pad_token_id=0,
                     eos_token_id=[1])[0, ids.shape[1]:]
    return seq[:(seq == 1).nonzero()[0, 0]] if (seq == 1).any() else seq


@pytest.mark.parametrize('family', FAMS)
def test_bf16_generate_matches_transformers_generate(family, ctok):
    """Batched bfloat16 greedy replies agree with transformers' one-prompt-at-a-time `generate` up to near-ties.

    A batch of 4 and a batch of 1 multiply matrices of different shapes, and native bfloat16 kernels (AMX, AVX-512 BF16, GPUs) may
    round them differently (emulated bfloat16 on AVX2 happens not to), so a greedy token can flip where the two best logits are within
    rounding of each other. What is invariant: the replies are equal up to their first difference, and there the reference model's
    own logits for the two tokens differ by at most 8 bfloat16 steps of max |logit| (the hook-vs-baked logits above differ by ≤ 4)."""
    m = tiny_model(family, dtype=torch.bfloat16)
    ours = generate(m, ctok, SHARED, max_new_tokens=6, batch_size=4, progress=False)
    for p, mine in zip(SHARED, ours):
        ids = torch.tensor([ctok([p])['input_ids'][0]])
        ref = _ref_greedy(m, ids, 6)
        got = ctok.batch_decode([ref.tolist()])[0]
        if mine == got: continue
        k = next(i for i, (a, b) in enumerate(zip(mine + '\0', got + '\0')) if a != b)   # first differing token (one char per token)
        with torch.no_grad(): lg = m(torch.cat([ids, ref[None, :k]], 1)).logits[0, -1].float()
        theirs = int(ref[k]) if k < len(ref) else 1                                # past the reference's end: it chose the end token
        mine_ids = [1] if k == len(mine) else [t for t in range(lg.shape[0]) if ctok.batch_decode([[t]])[0] == mine[k]]
        gap = lg[theirs] - lg[mine_ids].max()
        assert abs(gap) <= 8 * BF16_STEP * lg.abs().max(), (family, p, k, float(gap), float(lg.abs().max()))   # this pass rounds too

