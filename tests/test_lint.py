"""ruff over the whole tree, with our rules (among them: no bare `import validators`)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else shutil.which("ruff")


def test_ruff_is_clean():
    result = subprocess.run([_ruff(), "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bare_validators_import_is_banned(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import validators\n")
    result = subprocess.run([_ruff(), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(sample)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "TID251" in result.stdout
