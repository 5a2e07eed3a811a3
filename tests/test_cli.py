import subprocess, sys
from pathlib import Path
import pytest
from cna_nb.cli import build_parser, main


def test_help_lists_subcommands():
    out = subprocess.run([str(Path(sys.executable).parent / 'cna'), '--help'], capture_output=True, text=True)   # the installed console script
    assert out.returncode == 0 and 'run' in out.stdout and 'prepare' in out.stdout


def test_full_sets_paper_size():
    a = build_parser().parse_args(['run', '--full'])
    assert a.full and a.limit == 100


def test_bad_limit_is_refused():
    with pytest.raises(SystemExit, match='--limit'): main(['run', '--limit', '0'])
