"""Finding and loading libstrata, the ABI check at import and the version functions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import strata
from strata import _ffi

BINDINGS = Path(strata.__file__).resolve().parents[1]
REPO = BINDINGS.parents[1]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "STRATA_LIBRARY"}
    environment["PYTHONPATH"] = str(BINDINGS)
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)


def compiler() -> str:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    return cc


def test_versions():
    assert strata.__version__ == strata.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", strata.__version__)
    assert strata.abi_version() >> 16 == strata.ABI_VERSION_MAJOR == 1
    assert isinstance(strata.abi_version(), int)


def test_library_path_is_a_real_file():
    assert os.path.isfile(strata.library_path)
    assert os.path.basename(strata.library_path).startswith("libstrata")


def test_repository_is_three_folders_above_the_package():
    assert _ffi._repository() == REPO
    assert (REPO / "include" / "strata" / "engine.h").is_file()


def test_cdef_declares_every_function_of_the_headers():
    names = set(re.findall(r"\b(strata_\w+)\s*\(", _ffi.CDEF))
    headers = REPO / "include" / "strata"
    declared = set()
    for header in ("status.h", "version.h", "engine.h"):
        text = (headers / header).read_text()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        declared |= set(re.findall(r"\b(strata_\w+)\s*\(", text))
    declared -= {"strata_event_fn"}
    assert declared and declared <= names
    for name in declared:
        getattr(_ffi.lib, name)  # each resolves in the loaded library


def test_not_found_names_every_path_tried(tmp_path):
    with pytest.raises(strata.LibraryNotFound) as info:
        _ffi.find_library(env={}, repo=tmp_path)
    error = info.value
    assert isinstance(error, ImportError)
    message = str(error)
    assert len(error.tried) >= 5
    assert error.tried[0] == str(_ffi.packaged_path())
    for path in error.tried:
        assert path in message
    assert str(tmp_path / ".build" / "release" / "libstrata.so") in error.tried
    assert str(tmp_path / ".build" / "debug" / "libstrata.so") in error.tried
    assert str(tmp_path / ".build" / "x86_64-unknown-linux-gnu" / "release" / "libstrata.so") in error.tried
    assert str(tmp_path / ".build" / "x86_64-unknown-linux-gnu" / "debug" / "libstrata.so") in error.tried
    assert "swift build" in message and "STRATA_LIBRARY" in message


def test_packaged_library_wins_over_the_repository_but_not_over_strata_library(tmp_path, monkeypatch):
    packaged = tmp_path / "strata" / "_lib" / "libstrata.so"
    packaged.parent.mkdir(parents=True)
    packaged.write_bytes(b"")
    built = tmp_path / ".build" / "debug" / "libstrata.so"
    built.parent.mkdir(parents=True)
    built.write_bytes(b"")
    monkeypatch.setattr(_ffi, "packaged_path", lambda: packaged)
    assert _ffi.find_library(env={}, repo=tmp_path) == str(packaged)
    assert _ffi.find_library(env={"STRATA_LIBRARY": str(built)}, repo=tmp_path) == str(built)
    packaged.unlink()
    assert _ffi.find_library(env={}, repo=tmp_path) == str(built)


def test_packaged_path_is_lib_beside_the_package():
    assert _ffi.packaged_path() == REPO / "bindings" / "python" / "strata" / "_lib" / "libstrata.so"


def test_most_recently_built_library_wins(tmp_path):
    release = tmp_path / ".build" / "release" / "libstrata.so"
    debug = tmp_path / ".build" / "debug" / "libstrata.so"
    for p in (release, debug):
        p.parent.mkdir(parents=True)
        p.write_bytes(b"")
    os.utime(release, (1_000_000, 1_000_000))
    os.utime(debug, (2_000_000, 2_000_000))
    assert _ffi.find_library(env={}, repo=tmp_path) == str(debug)
    os.utime(release, (3_000_000, 3_000_000))
    assert _ffi.find_library(env={}, repo=tmp_path) == str(release)


def test_triple_folder_is_searched(tmp_path):
    lib = tmp_path / ".build" / "x86_64-unknown-linux-gnu" / "debug" / "libstrata.so"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"")
    assert _ffi.find_library(env={}, repo=tmp_path) == str(lib)


def test_env_var_comes_first(tmp_path):
    other = tmp_path / "elsewhere.so"
    other.write_bytes(b"")
    assert _ffi.find_library(env={"STRATA_LIBRARY": str(other)}) == str(other)
    with pytest.raises(strata.LibraryNotFound, match="STRATA_LIBRARY") as info:
        _ffi.find_library(env={"STRATA_LIBRARY": str(tmp_path / "missing.so")})
    assert str(tmp_path / "missing.so") in str(info.value)


def test_import_with_a_missing_library_raises_library_not_found():
    result = run_python("import strata", STRATA_LIBRARY="/nonexistent/libstrata.so")
    assert result.returncode != 0
    assert "LibraryNotFound" in result.stderr and "/nonexistent/libstrata.so" in result.stderr
    # It is an ImportError, so `except ImportError` works.
    result = run_python(
        "try:\n    import strata\nexcept ImportError as e:\n    print(type(e).__name__, isinstance(e, ImportError))",
        STRATA_LIBRARY="/nonexistent/libstrata.so",
    )
    assert result.stdout.strip() == "LibraryNotFound True", result.stderr


def test_import_with_an_explicit_library():
    result = run_python("import strata; print(strata.library_path, strata.__version__)", STRATA_LIBRARY=strata.library_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [strata.library_path, strata.__version__]


def test_import_with_a_file_that_is_not_a_library(tmp_path):
    junk = tmp_path / "libstrata.so"
    junk.write_text("not an ELF file")
    result = run_python("import strata", STRATA_LIBRARY=str(junk))
    assert result.returncode != 0
    assert "LibraryNotFound" in result.stderr and "could not be loaded" in result.stderr


def test_import_refuses_an_incompatible_abi_major(tmp_path):
    source = tmp_path / "fake.c"
    source.write_text(
        textwrap.dedent(
            """
            #include <stdint.h>
            uint32_t strata_abi_version(void) { return (2u << 16) | 3u; }
            const char *strata_version(void) { return "9.9.9"; }
            """
        )
    )
    fake = tmp_path / "libstrata.so"
    subprocess.run([compiler(), "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    result = run_python(
        "try:\n    import strata\n"
        "except ImportError as e:\n    print('refused', type(e).__name__, e.code, e.status); print(e)",
        STRATA_LIBRARY=str(fake),
    )
    assert result.returncode == 0, result.stderr
    first, message = result.stdout.split("\n", 1)
    assert first == "refused IncompatibleLibrary -5 STRATA_ERR_ABI_MISMATCH"
    assert "2.3" in message and "major 1" in message and str(fake) in message


def test_quickstart_example_runs():
    example = REPO / "examples" / "python" / "quickstart.py"
    environment = {k: v for k, v in os.environ.items() if k != "STRATA_LIBRARY"}
    environment["PYTHONPATH"] = str(BINDINGS)
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, cwd=REPO, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Alice prefers green tea" in result.stdout and "vector #42" in result.stdout
    assert "DimensionMismatch" in result.stdout
