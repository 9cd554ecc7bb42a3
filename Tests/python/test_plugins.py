"""Plugins from Python: the in-memory store plugin beside libstrata.so, and a refused ABI."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import strata

PLUGIN_CONFIG = {"store": {"backend": "memory", "plugin": "memory"}}
INCLUDE = Path(strata.__file__).resolve().parents[3] / "include"


@pytest.fixture
def plugin_engine():
    if not os.path.isfile(os.path.join(os.path.dirname(os.path.realpath(strata.library_path)), "libstrata-memory.so")):
        pytest.skip("libstrata-memory.so is not built beside libstrata.so")
    with strata.Engine(PLUGIN_CONFIG) as e:
        yield e


def test_store_plugin_is_used(plugin_engine):
    assert plugin_engine.stats()["store"] == "plugin:memory/memory"


def test_verbs_work_through_the_plugin_store(plugin_engine):
    e = plugin_engine
    tea = e.store("Alice prefers green tea in the morning", {"user": "alice", "n": 1}, "org/a")
    coffee = e.store("Bob drinks black coffee", {"user": "bob", "n": 2}, "org/b", visibility="shared")
    assert e.recall("green tea", k=2)[0].id == tea
    assert [h.id for h in e.recall("drinks", k=10, filter={"n": {"$gte": 2}})] == [coffee]
    assert [h.id for h in e.recall("drinks", k=10, scope="org")] == [coffee]  # shared, seen by the parent
    assert e.update(tea, content="Alice switched to oolong").content == "Alice switched to oolong"
    assert e.recall("oolong", k=1)[0].id == tea
    assert e.forget(coffee) == [coffee]
    assert e.stats()["memories"] == 1
    assert [h.event for h in e.history(coffee)] == ["ADD", "DELETE"]


def test_vector_path_through_the_plugin_store():
    if not os.path.isfile(os.path.join(os.path.dirname(os.path.realpath(strata.library_path)), "libstrata-memory.so")):
        pytest.skip("libstrata-memory.so is not built beside libstrata.so")
    config = dict(PLUGIN_CONFIG, embedder={"backend": "hashing", "options": {"dimension": 16}})
    with strata.Engine(config) as e:
        rng = np.random.default_rng(1)
        vectors = rng.standard_normal((20, 16)).astype(np.float32)
        ids = e.store_vectors(vectors)
        hit = e.recall_vector(vectors[9], k=1)[0]
        assert hit.id == ids[9] and hit.scores["vector"] == pytest.approx(1.0, abs=1e-5)
        with pytest.raises(strata.DimensionMismatch):
            e.store_vectors(np.ones((1, 8), np.float32))
        assert e.stats()["memories"] == 20


def test_plugin_built_for_another_abi_major_is_refused(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    source = tmp_path / "future.c"
    source.write_text(
        textwrap.dedent(
            """
            #include <strata/plugin.h>
            STRATA_PLUGIN_NOTE_FOR_ABI((2u << 16) | 0u);
            static const strata_plugin_descriptor descriptor = {
                sizeof(strata_plugin_descriptor), (2u << 16) | 0u, "future", "9.0.0", "from the future", 0, 0
            };
            const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host) {
                (void)host;
                return &descriptor;
            }
            """
        )
    )
    plugin = tmp_path / "libstrata-future.so"
    subprocess.run([cc, "-shared", "-fPIC", f"-I{INCLUDE}", "-o", str(plugin), str(source)], check=True)
    with pytest.raises(strata.ABIMismatch) as info:
        strata.Engine({"plugin_dirs": [str(tmp_path)], "store": {"backend": "memory", "plugin": "future"}})
    assert isinstance(info.value, strata.PluginError) and info.value.code == -5
    message = str(info.value)
    host = strata.abi_version()
    assert "libstrata-future.so" in message and "2.0" in message and f"{host >> 16}.{host & 0xFFFF}" in message


def test_a_library_without_the_plugin_note_is_refused_unrun(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "scripts/setup installs a C compiler"
    marker = tmp_path / "constructor-ran"
    source = tmp_path / "plain.c"
    source.write_text(
        textwrap.dedent(
            f"""
            #include <stdio.h>
            #include <strata/plugin.h>
            __attribute__((constructor)) static void ran(void) {{ FILE *f = fopen("{marker}", "w"); if (f) fclose(f); }}
            static const strata_plugin_descriptor descriptor = {{
                sizeof(strata_plugin_descriptor), STRATA_ABI_VERSION, "plain", "1.0.0", "no note", 0, 0
            }};
            const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host) {{
                (void)host;
                return &descriptor;
            }}
            """
        )
    )
    plugin = tmp_path / "libstrata-plain.so"
    subprocess.run([cc, "-shared", "-fPIC", f"-I{INCLUDE}", "-o", str(plugin), str(source)], check=True)
    with pytest.raises(strata.PluginError, match="no Strata plugin note") as info:
        strata.Engine({"plugin_dirs": [str(tmp_path)], "store": {"backend": "memory", "plugin": "plain"}})
    assert info.value.code == -4 and "libstrata-plain.so" in str(info.value)
    assert not marker.exists(), "the library's constructor ran"
