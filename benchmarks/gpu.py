"""Benchmark 6 — the GPU path, on random-weight models with the shapes of real ones (no download, no weights travel).

Builds each model from its published config (Llama-3.2-1B, Llama-3.1-8B, Qwen2.5-7B; random normal weights, bfloat16, on the GPU) and
reports, per model:
  discovery  — `capture` throughput (prompts/s) for batch sizes 1, 2, 4, …, 64 on 100 + 100 prompts of the shipped discovery set, and
               how many neurons of each batch size's top-0.1% |δ| circuit are also in the first batch size's (bfloat16 numerics)
  generation — 32 prompts × 64 new tokens (fixed work): unsteered, hook-steered and weight-baked (a 0.1% random circuit, m = 0) through
               `cna_nb.generate`, and transformers' `model.generate` on the same left-padded batch with the same hook; one warm-up round,
               then `--reps` rounds, interleaved and rotated; the median and the range are printed
  memory     — peak GPU memory of each stage (torch.cuda.max_memory_allocated)
  equivalence— batched vs one-at-a-time capture (max |Δ| / max |activation|), hook vs baked logits at m = 0 and m = 2.5,
               greedy tokens of our decoder vs transformers `generate` on the same inputs (one prompt at a time; one padded batch of 8),
               and batched vs one-at-a-time greedy tokens (bfloat16 numerics)
and, for the first model, the `device_map="auto"` path: the model saved to a folder and loaded through `cna_nb.load_model(folder,
device_map="auto")`, with its outputs checked against the in-memory model.

Prompts are tokenized by `cna_nb.testing.CharTok` (one token per character): no tokenizer has to be downloaded either.
`--tiny` shrinks every config (2 layers, narrow) so the script can be checked on a CPU; its figures mean nothing.

    python benchmarks/gpu.py [--models llama-3.2-1b,llama-3.1-8b,qwen2.5-7b] [--batches 1,2,4,8,16,32,64] [--reps 3] [--tiny] [--out FILE]

Measured on an H100 (2026-11-23): benchmarks/results/gpu/ and the results page's "On a GPU" (nbs/results.ipynb).
"""
import argparse, json, os, sys, tempfile, time
sys.path.insert(0, os.path.dirname(__file__))
from _common import header, table
import torch

CONFIGS = {   # from each model's published config.json
    'llama-3.2-1b': dict(model_type='llama', hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                         num_key_value_heads=8, head_dim=64, vocab_size=128256, rope_theta=500000.0, tie_word_embeddings=True,
                         max_position_embeddings=131072, rms_norm_eps=1e-5,
                         rope_scaling=dict(rope_type='llama3', factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=8192)),
    'llama-3.1-8b': dict(model_type='llama', hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                         num_key_value_heads=8, head_dim=128, vocab_size=128256, rope_theta=500000.0, tie_word_embeddings=False,
                         max_position_embeddings=131072, rms_norm_eps=1e-5,
                         rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=8192)),
    'qwen2.5-7b': dict(model_type='qwen2', hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                       num_key_value_heads=4, vocab_size=152064, rope_theta=1000000.0, tie_word_embeddings=False,
                       max_position_embeddings=32768, rms_norm_eps=1e-6),
}
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16, vocab_size=512)


def build(name: str, dtype, device, tiny: bool):
    from transformers import AutoConfig, AutoModelForCausalLM
    kw = dict(CONFIGS[name]); mt = kw.pop('model_type')
    if tiny: kw.update(TINY)
    cfg = AutoConfig.for_model(mt, **kw); cfg.pad_token_id = 0
    torch.manual_seed(0)
    with torch.device(device): model = AutoModelForCausalLM.from_config(cfg, dtype=dtype)
    return model.eval()


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def peak_gb(device) -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if device.type == 'cuda' else float('nan')


def reset_peak(device):
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()


def timed(device, fn):
    sync(device); t0 = time.perf_counter(); out = fn(); sync(device)
    return time.perf_counter() - t0, out


def top_set(delta: torch.Tensor, k: int) -> set:
    return set(delta.flatten().abs().topk(k).indices.tolist())


def run_model(name, a, device, dtype, tok, pos, neg, rows, eq_rows):
    from cna_nb.capture import capture, PerPrompt, MeanStats
    from cna_nb.architectures import neuron_shape
    from cna_nb.decoding import generate
    from cna_nb.interventions import steer
    from cna_nb.circuit import Circuit
    t, model = timed(device, lambda: build(name, dtype, device, a.tiny))
    L, N = neuron_shape(model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"\n## {name}: {n_params/1e9:.2f}B parameters, {L} layers × {N} MLP neurons, built in {t:.1f}s, "
          f"{torch.cuda.memory_allocated()/2**30 if device.type == 'cuda' else float('nan'):.1f} GiB on the GPU", flush=True)
    base = dict(model=name, params_B=f"{n_params/1e9:.2f}")
    prompts, k = pos + neg, max(1, round(0.001 * L * N))
    # discovery throughput by batch size; each batch size's top-0.1% |δ| circuit is compared with the first one's (bf16 numerics)
    capture(model, tok, prompts[:8], batch_size=8, progress=False, cache=False)          # warm-up (kernels, allocator)
    ref = None
    for b in a.batches:
        reset_peak(device)
        s, (sp, sn) = timed(device, lambda: [capture(model, tok, x, MeanStats(), batch_size=b, progress=False, cache=False) for x in (pos, neg)])
        top = top_set(sp.mean - sn.mean, k); ref = top if ref is None else ref
        rows.append(dict(**base, stage=f'discovery, batch {b}', seconds=f"{s:.2f}", rate=f"{len(prompts)/s:.1f} prompts/s", peak_GiB=f"{peak_gb(device):.1f}",
                         circuit=f"{len(top & ref)}/{k}"))
        print(rows[-1], flush=True)
    # steered generation: ours (unsteered, hook, baked) and transformers' generate with the same hook
    flat = torch.randperm(L * N, generator=torch.Generator().manual_seed(0))[:k]          # a random 0.1% circuit over all layers
    circ = Circuit(flat // N, flat % N, torch.zeros(k, dtype=torch.float64), (L, N), {})
    gp, T = prompts[:32], a.tokens
    gen = lambda: generate(model, tok, gp, max_new_tokens=T, batch_size=32, progress=False, stop_at_eos=False)
    def hf():
        enc = tok(gp, padding=True)
        with torch.no_grad():
            return model.generate(input_ids=enc['input_ids'].to(device), attention_mask=enc['attention_mask'].to(device), max_new_tokens=T,
                                  min_new_tokens=T, do_sample=False, pad_token_id=0)
    variants = [('cna_nb generate, unsteered', None, gen), ('cna_nb generate, hook m=0', 'hook', gen),
                ('cna_nb generate, baked m=0', 'weights', gen), ('transformers generate, hook m=0', 'hook', hf)]
    times, peaks = {v[0]: [] for v in variants}, {}
    for rep in range(a.reps + 1):                  # round 0 warms up every path (kernels, allocator) and is not counted
        for label, ctx, fn in variants[rep % 4:] + variants[:rep % 4]:   # interleaved and rotated: drift and order touch every variant alike
            reset_peak(device)
            if ctx is None: s, _ = timed(device, fn)
            else:
                with steer(model, circ, 0.0, method=ctx): s, _ = timed(device, fn)
            if rep: times[label].append(s); peaks[label] = max(peaks.get(label, 0.0), peak_gb(device))
    res = {}
    for label, _, _ in variants:
        s = res[label] = sorted(times[label])[len(times[label]) // 2]          # median of the timed rounds
        rows.append(dict(**base, stage=label, seconds=f"{s:.2f}", rate=f"{len(gp)*T/s:.0f} tokens/s", peak_GiB=f"{peaks[label]:.1f}",
                         spread=f"{min(times[label]):.2f}–{max(times[label]):.2f} s"))
        print(rows[-1], flush=True)
    u = res['cna_nb generate, unsteered']
    eq_rows.append(dict(model=name, check='hook overhead vs unsteered', value=f"{res['cna_nb generate, hook m=0']/u - 1:+.1%}"))
    eq_rows.append(dict(model=name, check='baked overhead vs unsteered', value=f"{res['cna_nb generate, baked m=0']/u - 1:+.1%}"))
    eq_rows.append(dict(model=name, check='cna_nb / transformers generate (time)', value=f"{res['cna_nb generate, hook m=0']/res['transformers generate, hook m=0']:.2f}"))
    # equivalence checks on this device
    ep = prompts[:8]
    bat = capture(model, tok, ep, PerPrompt(), batch_size=8, progress=False).acts
    one = torch.cat([capture(model, tok, [p], PerPrompt(), progress=False).acts for p in ep])
    eq_rows.append(dict(model=name, check='capture batched vs single: max|Δ| / max|act|', value=f"{float((bat - one).abs().max() / one.abs().max()):.2e}"))
    x = tok(ep[:2], padding=True); ids, mask = x['input_ids'].to(device), x['attention_mask'].to(device)
    with torch.no_grad():
        for mult in (0.0, 2.5):
            with steer(model, circ, mult): h = model(input_ids=ids, attention_mask=mask).logits.float()
            with steer(model, circ, mult, method='weights'): w = model(input_ids=ids, attention_mask=mask).logits.float()
            eq_rows.append(dict(model=name, check=f'hook vs baked logits, m={mult:g}: max|Δ| / max|logit|', value=f"{float((h - w).abs().max() / h.abs().max()):.2e}"))
    # greedy decoding against transformers, 16 tokens, on the same inputs: one prompt at a time, and the same left-padded batch of 8.
    # (Batched vs one-at-a-time differ in bfloat16 for both libraries alike: padding changes the kernels' shapes and sums.)
    def hf_gen(ps):
        enc = tok(ps, padding=True)
        i, m = torch.as_tensor(enc['input_ids'], device=device), torch.as_tensor(enc['attention_mask'], device=device)
        with torch.no_grad(): seq = model.generate(input_ids=i, attention_mask=m, max_new_tokens=16, min_new_tokens=16, do_sample=False, pad_token_id=0)
        return tok.batch_decode(seq[:, i.shape[1]:].tolist())
    ours1 = [generate(model, tok, [p], max_new_tokens=16, progress=False, stop_at_eos=False, prefix_cache=False)[0] for p in ep]
    hf1 = [hf_gen([p])[0] for p in ep]
    same = lambda x, y: f"{sum(o == r for o, r in zip(x, y))}/{len(x)} identical"
    eq_rows.append(dict(model=name, check='greedy 16 tokens, one prompt at a time: cna_nb == transformers', value=same(ours1, hf1)))
    oursb = generate(model, tok, ep, max_new_tokens=16, batch_size=len(ep), progress=False, stop_at_eos=False, prefix_cache=False)
    eq_rows.append(dict(model=name, check='greedy 16 tokens, one left-padded batch of 8: cna_nb == transformers', value=same(oursb, hf_gen(ep))))
    eq_rows.append(dict(model=name, check='greedy 16 tokens, cna_nb batch of 8 == cna_nb one at a time (bf16 numerics)', value=same(oursb, ours1)))
    return model


def device_map_path(model, name, a, tok, prompts, eq_rows):
    "Save the random model, load it back through cna_nb.load_model(folder, device_map='auto'), check it computes the same."
    from cna_nb.models import load_model
    from cna_nb.capture import capture, PerPrompt
    from tokenizers import Tokenizer, Regex, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter(); model.save_pretrained(d); ts = time.perf_counter() - t0
        chars = Tokenizer(models.WordLevel({'<pad>': 0, '<eos>': 1, **{chr(32 + i): 2 + i for i in range(95)}}, unk_token='<pad>'))
        chars.pre_tokenizer = pre_tokenizers.Split(Regex('.'), 'isolated')      # one token per character, saved with the model
        PreTrainedTokenizerFast(tokenizer_object=chars, pad_token='<pad>', eos_token='<eos>').save_pretrained(d)
        t0 = time.perf_counter(); m2, tok2 = load_model(d, dtype='auto', device_map='auto'); tl = time.perf_counter() - t0
        devs = sorted({str(p.device) for p in m2.parameters()})
        a1 = capture(model, tok2, prompts[:8], PerPrompt(), batch_size=8, progress=False).acts
        a2 = capture(m2, tok2, prompts[:8], PerPrompt(), batch_size=8, progress=False).acts
        eq_rows.append(dict(model=name, check='device_map="auto": dtype, devices, save / load seconds', value=f"{m2.dtype}, {devs}, {ts:.1f} / {tl:.1f}"))
        sd1, sd2 = model.state_dict(), m2.state_dict()
        same_w = all(torch.equal(sd1[n], sd2[n].to(sd1[n].device)) for n in sd1 if n in sd2)
        b1, b2 = dict(model.named_buffers()), dict(m2.named_buffers())
        dbuf = max([float((b1[n].float() - b2[n].float().to(b1[n].device)).abs().max()) for n in b1 if n in b2] or [0.0])
        eq_rows.append(dict(model=name, check='device_map="auto": weights bit-identical to the saved model; max|Δ| of buffers (rotary)', value=f"{same_w}; {dbuf:.2e}"))
        eq_rows.append(dict(model=name, check='device_map="auto" vs in-memory capture: max|Δ| / max|act|', value=f"{float((a1 - a2).abs().max() / a1.abs().max()):.2e}"))
        del m2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', default=','.join(CONFIGS))
    ap.add_argument('--batches', default='1,2,4,8,16,32,64')
    ap.add_argument('--prompts', type=int, default=200, help='discovery prompts (the shipped 100 + 100)')
    ap.add_argument('--tokens', type=int, default=64)
    ap.add_argument('--reps', type=int, default=3, help='timed rounds of each generation variant (median reported), after one warm-up round')
    ap.add_argument('--tiny', action='store_true', help='shrunken configs, to check the script on a CPU')
    ap.add_argument('--out', default=None, help='also write the tables as JSON here')
    a = ap.parse_args()
    a.batches = [int(b) for b in a.batches.split(',')]
    names = a.models.split(',')
    if bad := [n for n in names if n not in CONFIGS]: sys.exit(f"unknown model(s) {bad}: choose from {','.join(CONFIGS)}")
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.type != 'cuda' and not a.tiny: sys.exit("no CUDA GPU here: run on a GPU machine, or pass --tiny to check the script on a CPU")
    from cna_nb.models import native_bf16
    from cna_nb.testing import CharTok
    from cna_nb.data import load_discovery
    header(f"GPU benchmark: {', '.join(names)} (random weights{', TINY configs' if a.tiny else ''}), bfloat16, on {device}")
    if device.type == 'cuda': print(f"GPU: {torch.cuda.get_device_name()}, {torch.cuda.get_device_properties(0).total_memory/2**30:.0f} GiB, "
                                    f"native bfloat16: {native_bf16('cuda')}", flush=True)
    pos, neg = load_discovery()
    h = a.prompts // 2; pos, neg, tok = pos[:h], neg[:a.prompts - h], CharTok()
    rows, eq_rows = [], []
    for i, name in enumerate(names):
        model = run_model(name, a, device, torch.bfloat16, tok, pos, neg, rows, eq_rows)
        if i == 0: device_map_path(model, name, a, tok, pos + neg, eq_rows)
        del model
        if device.type == 'cuda': torch.cuda.empty_cache()
    print('\n' + table([{'circuit': '', 'spread': '', **r} for r in rows], ['model', 'params_B', 'stage', 'seconds', 'spread', 'rate', 'peak_GiB', 'circuit']))
    print('\n' + table(eq_rows, ['model', 'check', 'value']))
    if a.out: json.dump(dict(rows=rows, checks=eq_rows), open(a.out, 'w'), indent=1)


if __name__ == '__main__': main()
