"""The file store plugin (libstrata-file.so) from Python: the configuration the crash tests use,
memories and history across engines, one writer per file, a torn tail cut off (and kept) on open, damage in the last frame refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import strata


def file_config(path):
    return {"store": {"backend": "file", "plugin": "file", "options": {"path": str(path)}}}


@pytest.fixture(autouse=True)
def needs_plugin():
    folder = os.path.dirname(os.path.realpath(strata.library_path))
    if not os.path.isfile(os.path.join(folder, "libstrata-file.so")):
        pytest.skip("libstrata-file.so is not built beside libstrata.so")


def test_memories_and_history_survive_a_new_engine(tmp_path):
    path = tmp_path / "memories.log"
    with strata.Engine(file_config(path)) as e:
        tea = e.store("Alice prefers green tea in the morning", {"user": "alice"})
        e.update(tea, content="Alice switched to oolong")
        gone = e.store("Bob drinks black coffee", {"user": "bob"})
        e.forget(gone)
        assert e.stats()["store"] == "plugin:file/file"
    with strata.Engine(file_config(path)) as e:
        assert e.get(tea).content == "Alice switched to oolong"
        assert [h.event for h in e.history(tea)] == ["ADD", "UPDATE"]
        assert [h.event for h in e.history(gone)] == ["ADD", "DELETE"]
        assert e.stats()["memories"] == 1
        assert e.recall("oolong", k=1)[0].id == tea


def test_a_second_process_is_refused_while_one_holds_the_file(tmp_path):
    path = tmp_path / "memories.log"
    with strata.Engine(file_config(path)) as e:
        e.store("held by this process")
        script = textwrap.dedent(f"""
            import strata
            try:
                strata.Engine({file_config(path)!r})
            except strata.Conflict as error:
                print("conflict:", error)
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
        assert out.startswith("conflict:") and str(path) in out and "another process" in out


def test_a_torn_tail_is_cut_off_with_a_message(tmp_path):
    path = tmp_path / "memories.log"
    with strata.Engine(file_config(path)) as e:
        kept = e.store("the first memory is whole")
        whole = path.stat().st_size
        e.store("the second memory is torn")
    # What a crash during the second append leaves: its frame cut short.
    os.truncate(path, path.stat().st_size - 5)
    torn = path.read_bytes()[whole:]
    script = textwrap.dedent(f"""
        import strata
        with strata.Engine({file_config(path)!r}) as e:
            print(e.stats()["memories"], e.get({kept!r}).content)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert run.stdout.strip() == "1 the first memory is whole"
    assert str(path) in run.stderr and f"offset {whole}" in run.stderr and f"dropped {len(torn)} bytes" in run.stderr
    assert path.stat().st_size == whole
    # The cut bytes are kept beside the log, byte for byte.
    assert (tmp_path / f"memories.log.torn-{whole}").read_bytes() == torn


def test_a_damaged_last_frame_is_corrupt_and_changes_nothing(tmp_path):
    path = tmp_path / "memories.log"
    with strata.Engine(file_config(path)) as e:
        e.store("the first memory")
        e.store("the second memory")
    damaged = bytearray(path.read_bytes())
    damaged[-10] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(strata.StrataError) as caught:
        strata.Engine(file_config(path))
    assert caught.value.status == "STRATA_ERR_CORRUPT" and str(path) in str(caught.value)
    assert path.read_bytes() == bytes(damaged)
