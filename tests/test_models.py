"The loader on tiny local folders (the HF-id / device_map path) and the embedded registry's error paths."
import pytest, torch
from transformers import AutoModelForCausalLM
from conftest import tiny_model
from cna_nb.models import load_model, resolve_dtype, embedded_model_dir, EMBEDDED, EmbeddedModel, gguf_parts, DEFAULT_MODEL


@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
    "A tiny Qwen2 with the embedded model's tokenizer, saved as a local folder."
    from transformers import AutoTokenizer
    d = tmp_path_factory.mktemp('tiny')
    tok = AutoTokenizer.from_pretrained(embedded_model_dir(DEFAULT_MODEL))
    m = tiny_model('qwen2'); m.resize_token_embeddings(len(tok)); m.save_pretrained(d); tok.save_pretrained(d)
    return d


@pytest.mark.parametrize('device_map', [None, 'cpu', 'auto'])
def test_local_folder_with_device_map(tiny_dir, device_map):
    """Whatever 'auto' picks here (bfloat16 on a CPU that runs it natively or with CNA_NB_DTYPE=bfloat16, else float32), the model loaded
    through device_map computes what plain `from_pretrained` in that dtype computes."""
    model, tok = load_model(tiny_dir, device_map=device_map)
    assert tok.padding_side == 'left' and tok.pad_token is not None
    assert model.dtype == resolve_dtype('auto', device_map) and not model.training
    ref = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=model.dtype)
    x = torch.tensor([[1, 2, 3]])
    with torch.no_grad(): a, b = model(x).logits.float(), ref(x).logits.float()
    tol = 1e-6 if model.dtype == torch.float32 else 2 * 2.0 ** -8      # same weights, same dtype: equal up to one rounding
    assert (a - b).abs().max() <= tol * b.abs().max()


@pytest.mark.parametrize('forced', ['float32', 'bfloat16'])
def test_cna_nb_dtype_forces_auto(tiny_dir, forced, monkeypatch):
    "CNA_NB_DTYPE decides what 'auto' (and the registry default) loads, for `load_model` and the CLI; an explicit dtype still wins."
    from cna_nb import cli
    monkeypatch.setenv('CNA_NB_DTYPE', forced)
    assert load_model(tiny_dir)[0].dtype == getattr(torch, forced)
    assert load_model(tiny_dir, dtype='auto')[0].dtype == getattr(torch, forced)
    other = 'bfloat16' if forced == 'float32' else 'float32'
    assert load_model(tiny_dir, dtype=other)[0].dtype == getattr(torch, other)
    from cna_nb import models, commands
    seen, real = [], models.load_model
    def record(*a, **k):                                  # the CLI's own load, then stop before any work
        seen.append(real(*a, **k)[0].dtype); raise SystemExit(0)
    monkeypatch.setattr(commands, 'load_model', record)     # the name the commands call
    base = ['discover', '--model', str(tiny_dir), '--positive', 'harmful', '--negative', 'benign']
    for argv in (base, base + ['--dtype', other]):
        with pytest.raises(SystemExit): cli.main(argv)
    assert seen == [getattr(torch, forced), getattr(torch, other)]


def test_cna_nb_dtype_bad_value_is_one_line(tiny_dir, monkeypatch):
    monkeypatch.setenv('CNA_NB_DTYPE', 'bf16')
    with pytest.raises(ValueError, match=r"CNA_NB_DTYPE='bf16' is not a dtype: set it to one of float32, bfloat16, float16"): load_model(tiny_dir)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match='could not load'): load_model(tmp_path / 'nothing-here')


def test_unknown_registry_name():
    with pytest.raises(ValueError, match='unknown embedded model'): embedded_model_dir('qwen-9000')


def test_missing_parts_print_pip_command():
    spec = EmbeddedModel('x', 'x/x', 'cna-nb-absent-part{i}', '0.1', 2, 1, 'ab', 0.1)
    with pytest.raises(ModuleNotFoundError, match=r'pip install cna-nb-absent-part1==0.1 cna-nb-absent-part2==0.1'): gguf_parts(spec)


def test_embedded_default_is_installed_and_cached():
    parts = gguf_parts(EMBEDDED[DEFAULT_MODEL])
    assert sum(p.stat().st_size for p in parts) == EMBEDDED[DEFAULT_MODEL].size
    assert (embedded_model_dir(DEFAULT_MODEL) / 'config.json').exists()


def test_the_15b_extra_in_setup_matches_the_registry():
    "`pip install -e '.[model-1.5b]'` (what the error names) installs exactly the registry's parts."
    import re
    from pathlib import Path
    spec = EMBEDDED['qwen2.5-coder-1.5b-instruct']
    src = (Path(__file__).parents[1]/'setup.py').read_text()
    line = re.search(r'^model_15b = (.+)$', src, re.M).group(1)
    assert eval(line) == [f'{p}=={spec.version}' for p in spec.packages()]
    assert f"'{spec.extra}': model_15b" in src


def test_cli_names_the_install_command_for_a_missing_embedded_model(monkeypatch, capsys, tmp_path):
    "Without its packages, `cna run --model <embedded>` ends with one line naming the extra's install command (and leaves no half-built folder)."
    from cna_nb import models, cli
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path/'cache')); monkeypatch.chdir(tmp_path)    # never the user's cache or folder
    spec = EmbeddedModel('fake-embedded', 'x/x', 'cna-nb-absent-part{i}', '0.1', 2, 1, 'ab', 0.1, extra='model-fake')
    monkeypatch.setitem(models.EMBEDDED, spec.name, spec)
    assert cli.main(['run', '--model', spec.name, '--limit', '2', '--out', 'unused_out']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install -e '.[model-fake]'" in err and 'fake-embedded' in err
    assert not (tmp_path/'cache'/'fake-embedded.building').exists()
