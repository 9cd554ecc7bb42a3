"""scripts/wheel: the wheel carries libstrata.so, the plugins and the Swift runtime, and works alone.

The wheel is made from the build folder of the library these tests loaded (``strata.library_path``,
the debug build under scripts/test) with ``scripts/wheel --from``: a release build takes minutes,
and what is checked here (what goes in, the RUNPATH, loading with no Swift toolchain in the path)
does not depend on the optimisation level. It is installed with pip into a fresh virtual
environment (numpy and cffi come from PyPI) and run from outside the checkout, with no
STRATA_LIBRARY, PYTHONPATH or LD_LIBRARY_PATH.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import strata

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "wheel"
BUILD = Path(strata.library_path).resolve().parent
PLUGINS = ["libstrata-memory.so", "libstrata-file.so", "libstrata-sqlite.so", "libstrata-tensor.so", "libstrata-minilm.so"]


def _load_script():
    loader = importlib.machinery.SourceFileLoader("strata_wheel_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STRATA_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH", "STRATA_PLUGIN_PATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, str(SCRIPT), "--from", str(BUILD), "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv_python(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel installed by pip."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(root)
    python = root / "bin" / "python"
    run = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                         capture_output=True, text=True, env=_clean_env())
    assert run.returncode == 0, f"pip install failed (numpy and cffi come from PyPI):\n{run.stdout}\n{run.stderr}"
    return python


def test_wheel_is_named_and_tagged_for_this_platform_and_any_python3(wheel):
    assert wheel.name == f"strata_memory-{strata.__version__}-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(wheel) as z:
        tags = z.read(f"strata_memory-{strata.__version__}.dist-info/WHEEL").decode()
        metadata = z.read(f"strata_memory-{strata.__version__}.dist-info/METADATA").decode()
    assert "Tag: py3-none-linux_x86_64\n" in tags and "Root-Is-Purelib: false\n" in tags
    assert "Requires-Dist: cffi>=1.15\n" in metadata and "Requires-Dist: numpy>=1.24\n" in metadata


def test_wheel_carries_the_library_the_plugins_the_swift_runtime_and_py_typed(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    for name in ["libstrata.so", *PLUGINS, "libswiftCore.so", "libswift_Concurrency.so", "libdispatch.so", "libsqlite3.so.0"]:
        assert f"strata/_lib/{name}" in names, name
    assert "strata/py.typed" in names and "strata/engine.py" in names
    assert not any("__pycache__" in n for n in names)
    # glibc and libstdc++ are the system's, never carried.
    assert not any(n.endswith(("/libc.so.6", "/libstdc++.so.6", "/libm.so.6")) for n in names)


def test_record_lists_every_file_with_its_hash_and_size(wheel):
    with zipfile.ZipFile(wheel) as z:
        record = z.read(f"strata_memory-{strata.__version__}.dist-info/RECORD").decode()
        rows = list(csv.reader(io.StringIO(record)))
        listed = {row[0] for row in rows}
        assert listed == set(z.namelist())
        for name, digest, size in rows:
            if name.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = z.read(name)
            assert int(size) == len(data)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_every_strata_library_in_the_wheel_has_runpath_origin_only(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path)
    for name in ["libstrata.so", *PLUGINS]:
        dynamic = subprocess.run(["readelf", "-d", str(tmp_path / "strata" / "_lib" / name)], capture_output=True, text=True, check=True).stdout
        assert "Library runpath: [$ORIGIN]" in dynamic, (name, dynamic)
        assert "/opt/swift" not in dynamic


def test_quickstart_runs_from_the_installed_wheel_outside_the_checkout(venv_python, tmp_path):
    run = subprocess.run([str(venv_python), str(REPO / "examples" / "python" / "quickstart.py")],
                         capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
    assert run.returncode == 0, run.stderr
    site = venv_python.parent.parent
    first = run.stdout.splitlines()[0]
    assert first.startswith("strata ") and f" from {site}" in first and first.endswith("/strata/_lib/libstrata.so"), first
    assert "recall_vector(vectors[42])" in run.stdout
    assert "reopened memories/: 2 memories of alice, dimension 64" in run.stdout  # the SQLite plugin, from the wheel


def test_installed_package_loads_plugins_and_the_swift_runtime_from_the_wheel(venv_python, tmp_path):
    """A SQLite store (a plugin found beside libstrata.so); every Swift and Strata library mapped comes from the wheel."""
    script = f"""
import json, strata
config = {{"store": {{"backend": "sqlite", "plugin": "sqlite", "options": {{"path": {json.dumps(str(tmp_path / "m.db"))}}}}}}}
with strata.Engine(config) as engine:
    engine.store("kept on disk")
    store = engine.stats()["store"]
with strata.Engine(config) as engine:
    count = engine.stats()["memories"]
maps = sorted({{line.split()[-1] for line in open("/proc/self/maps") if ".so" in line.split()[-1]}})
print(json.dumps({{"store": store, "count": count, "maps": maps}}))
"""
    run = subprocess.run([str(venv_python), "-c", script], capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert "sqlite" in answer["store"] and answer["count"] == 1
    lib = str(venv_python.parent.parent)
    swift = [m for m in answer["maps"] if "libswift" in m or "/libstrata" in m or "libdispatch" in m]
    assert any(m.endswith("/libstrata-sqlite.so") for m in swift)
    assert swift and all(m.startswith(lib) for m in swift), swift


def _toolchain_runtime_folder() -> Path:
    """The folder the build's libstrata.so takes libswiftCore.so from (the toolchain's runtime)."""
    out = subprocess.run(["ldd", str(BUILD / "libstrata.so")], capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if "libswiftCore.so =>" in l)
    return Path(line.split("=>")[1].split()[0]).parent


def test_quickstart_runs_with_the_swift_toolchain_hidden(venv_python, tmp_path):
    """The machine without a Swift toolchain: in a private mount namespace an empty tmpfs covers
    the toolchain's runtime folder, so only the wheel's copies can be loaded."""
    runtime = _toolchain_runtime_folder()
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m is not permitted here ({probe.stderr.strip()}): needs root or user namespaces")
    hidden = f"mount -t tmpfs none {runtime} && test ! -e {runtime}/libswiftCore.so && exec \"$0\" \"$@\""
    run = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", hidden, str(venv_python),
                          str(REPO / "examples" / "python" / "quickstart.py")],
                         capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
    assert run.returncode == 0, run.stderr
    assert "reopened memories/: 2 memories of alice, dimension 64" in run.stdout
    # The same command without the wheel's runtime fails: the hiding is real.
    bare = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", hidden, sys.executable, "-c",
                           f"import ctypes; ctypes.CDLL({str(BUILD / 'libstrata.so')!r})"],
                          capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
    assert bare.returncode != 0 and "libswift" in bare.stderr, bare.stderr


def test_wheel_from_a_folder_without_the_library_fails_naming_it(tmp_path):
    run = subprocess.run([sys.executable, str(SCRIPT), "--from", str(tmp_path), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert f"{tmp_path / 'libstrata.so'} is missing" in run.stderr
    assert not (tmp_path / "out").exists()


def test_set_runpath_rewrites_in_place_and_refuses_what_it_cannot(tmp_path):
    script = _load_script()
    copy = tmp_path / "libstrata.so"
    copy.write_bytes((BUILD / "libstrata.so").read_bytes())
    size = copy.stat().st_size
    old = script.set_runpath(copy, "$ORIGIN")
    assert "$ORIGIN" in old and copy.stat().st_size == size
    assert script.set_runpath(copy, "$ORIGIN") == "$ORIGIN"
    with pytest.raises(ValueError, match="longer than"):
        script.set_runpath(copy, "$ORIGIN/../a/much/longer/folder")
    text = tmp_path / "not-elf.so"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a 64-bit little-endian ELF"):
        script.set_runpath(text, "$ORIGIN")
