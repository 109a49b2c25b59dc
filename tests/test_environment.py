"""requirements.txt (pip) and environment.yml (conda) must install the same course."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
NOT_PACKAGES = {"python", "pip"}


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    deps += [d for d in env["dependencies"] if isinstance(d, dict) for d in d.get("pip", []) if "==" in d]
    for dep in deps:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*=?=?\s*([^\s]*)", dep).groups()
        if name not in NOT_PACKAGES:
            pins[CONDA_NAMES.get(name, name).lower()] = version
    return pins


def test_pip_and_conda_pin_the_same_packages_and_versions():
    pip, conda = pip_pins(), conda_pins()
    assert set(pip) == set(conda), (
        f"only in requirements.txt: {sorted(set(pip) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pip))}"
    )
    differ = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert not differ, f"versions differ (pip, conda): {differ}"


def test_python_version_agrees():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert 'requires-python = ">=3.11,<3.12"' in (ROOT / "pyproject.toml").read_text()


def test_installed_versions_match_the_pins():
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for name, pinned in pip_pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed is None or installed.split("+")[0] != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"installed versions differ from requirements.txt (pinned, installed): {wrong}"
