"Shared bits of the benchmark scripts: machine line, timing, peak memory, table printing."
import os, platform, resource, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')
import torch


def machine() -> str:
    import transformers
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30
    try: cpu = next(l for l in open('/proc/cpuinfo') if l.startswith('model name')).split(':', 1)[1].strip()
    except (OSError, StopIteration): cpu = platform.processor() or platform.machine()
    return (f"{cpu} (torch CPU capability {torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} CPUs, {mem:.0f} GiB RAM, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), transformers {transformers.__version__}, python {platform.python_version()}")


class Timer:
    "with Timer() as t: ...; t.s is the wall time in seconds."
    def __enter__(self): self.t0 = time.perf_counter(); return self
    def __exit__(self, *a): self.s = time.perf_counter() - self.t0


def peak_rss_gb() -> float:
    "Peak resident memory of this process so far (GB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def rss_gb() -> float:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**30


def table(rows: list[dict], cols: list[str]) -> str:
    "A plain-text (and Markdown) table."
    cells = [[str(r.get(c, '')) for c in cols] for r in rows]
    w = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    line = lambda xs: '| ' + ' | '.join(x.ljust(w[i]) for i, x in enumerate(xs)) + ' |'
    return '\n'.join([line(cols), '|' + '|'.join('-'*(x+2) for x in w) + '|', *map(line, cells)])


def verdict(name: str, checks: list[tuple[str, bool]]) -> str:
    ok = all(v for _, v in checks)
    return f"VERDICT {name}: {'MET' if ok else 'NOT MET'} — " + '; '.join(f"{c}: {'yes' if v else 'NO'}" for c, v in checks)


def header(title: str):
    print(f"# {title}\n{machine()}\n{time.strftime('%Y-%m-%d %H:%M:%S')}\n", flush=True)


def left_padded(tok, texts):
    "A left-padded batch of chat-formatted texts with position ids (the reference forward of the floors)."
    enc = tok(texts, return_tensors='pt', padding=True, add_special_tokens=False)
    return dict(input_ids=enc['input_ids'], attention_mask=enc['attention_mask'], position_ids=(enc['attention_mask'].cumsum(-1) - 1).clamp(min=0))
