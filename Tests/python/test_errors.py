"""Error paths: each status code arrives as its exception class with the library's message,
and nothing stored before a failing call is lost."""

from __future__ import annotations

import pickle

import pytest

import strata
from strata import errors
from strata._ffi import lib, ffi
from support import assert_intact


# ---- the class table ----------------------------------------------------------------------------


def test_one_class_per_status_code_matching_the_header():
    for code in range(-1, -16, -1):
        cls = errors.ERROR_CLASSES[code]
        assert cls.default_code == code
        name = ffi.string(lib.strata_status_name(code)).decode()
        assert name == errors.STATUS_NAMES[code]
        e = errors.error_for(code, "msg", name)
        assert type(e) is cls and e.code == code and e.status == name and str(e) == "msg"
    assert lib.STRATA_ERR_NOT_FOUND == -2 and lib.STRATA_ERR_INTERNAL == -15
    assert ffi.string(lib.strata_status_name(-99)).decode() == "STRATA_ERR_UNKNOWN"
    unknown = errors.error_for(-99, "what", "STRATA_ERR_UNKNOWN")
    assert type(unknown) is strata.StrataError and unknown.code == -99


@pytest.mark.parametrize(
    "cls, bases",
    [
        (strata.InvalidArgument, (strata.StrataError, ValueError)),
        (strata.NotFound, (strata.StrataError, KeyError, LookupError)),
        (strata.InvalidConfig, (strata.StrataError, ValueError)),
        (strata.PluginError, (strata.StrataError,)),
        (strata.ABIMismatch, (strata.PluginError,)),
        (strata.StrataIOError, (strata.StrataError, OSError)),
        (strata.DimensionMismatch, (strata.InvalidArgument, ValueError)),
        (strata.InvalidVector, (strata.InvalidArgument,)),
        (strata.InvalidJSON, (strata.InvalidArgument,)),
        (strata.InvalidUTF8, (strata.InvalidArgument, UnicodeError, ValueError)),
        (strata.InvalidFilter, (strata.InvalidArgument,)),
        (strata.BackendError, (strata.StrataError,)),
        (strata.Unsupported, (strata.StrataError, NotImplementedError)),
        (strata.Conflict, (strata.StrataError,)),
        (strata.InternalError, (strata.StrataError,)),
        (strata.EngineClosed, (strata.StrataError, ValueError)),
        (strata.IncompatibleLibrary, (strata.ABIMismatch, ImportError)),
        (strata.LibraryNotFound, (ImportError,)),
    ],
)
def test_hierarchy(cls, bases):
    for base in bases:
        assert issubclass(cls, base)


def test_messages_are_plain_and_survive_pickling():
    nf = strata.NotFound('no memory with id "m-1"', -2, "STRATA_ERR_NOT_FOUND")
    assert str(nf) == 'no memory with id "m-1"'  # no KeyError quotes
    io = strata.StrataIOError("disk full", -6)
    assert str(io) == "disk full" and io.status == "STRATA_ERR_IO"
    utf = strata.InvalidUTF8("bad byte")
    assert str(utf) == "bad byte" and utf.code == -10
    for e in (nf, io, utf, strata.InvalidConfig("unknown key config.x", -3, "STRATA_ERR_INVALID_CONFIG")):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e) and back.code == e.code and back.status == e.status


# ---- opening ------------------------------------------------------------------------------------


def test_malformed_config_json():
    with pytest.raises(strata.InvalidJSON) as info:
        strata.Engine('{"store": ')
    assert info.value.code == -9 and info.value.status == "STRATA_ERR_INVALID_JSON"
    assert str(info.value)


def test_unknown_config_key_is_named():
    with pytest.raises(strata.InvalidConfig, match="stroe") as info:
        strata.Engine({"stroe": {}})
    assert info.value.status == "STRATA_ERR_INVALID_CONFIG" and isinstance(info.value, ValueError)


def test_bad_config_value_names_the_key_path():
    with pytest.raises(strata.InvalidConfig, match="dedupe"):
        strata.Engine({"dedupe": {"threshold": 3}})
    with pytest.raises(strata.InvalidConfig, match="nope"):
        strata.Engine({"embedder": {"backend": "nope"}})


def test_unknown_plugin_is_named():
    with pytest.raises(strata.PluginError, match="no-such-plugin") as info:
        strata.Engine({"store": {"backend": "memory", "plugin": "no-such-plugin"}})
    assert info.value.code == -4 and "libstrata-no-such-plugin.so" in str(info.value)


# ---- verbs --------------------------------------------------------------------------------------


def test_unknown_id_is_not_found_naming_it(seeded):
    engine, ids = seeded
    with pytest.raises(strata.NotFound) as info:
        engine.get("m-0000deadbeef")
    assert "m-0000deadbeef" in str(info.value) and not str(info.value).startswith("'")
    assert info.value.code == -2 and info.value.status == "STRATA_ERR_NOT_FOUND"
    with pytest.raises(KeyError):  # usable as a KeyError too
        engine.update("m-0000deadbeef", content="x")
    assert_intact(engine, ids)


def test_invalid_filter_operator_is_named(seeded):
    engine, ids = seeded
    with pytest.raises(strata.InvalidFilter, match=r"\$bogus") as info:
        engine.recall("tea", filter={"n": {"$bogus": 1}})
    assert info.value.code == -11
    with pytest.raises(strata.InvalidFilter, match=r"\$bogus"):
        engine.forget(filter={"$bogus": []})
    with pytest.raises(strata.InvalidFilter):
        engine.recall("tea", filter={"$and": {"not": "a list"}})
    assert_intact(engine, ids)


def test_invalid_utf8_is_reported_by_the_engine(seeded):
    engine, ids = seeded
    with pytest.raises(strata.InvalidUTF8) as info:
        engine.store("broken \udc80 text")
    assert info.value.code == -10 and info.value.status == "STRATA_ERR_INVALID_UTF8"
    assert isinstance(info.value, UnicodeError) and isinstance(info.value, ValueError)
    with pytest.raises(strata.InvalidUTF8):
        engine.recall("query \ud800")
    with pytest.raises(strata.InvalidUTF8):
        engine.store("fine text", metadata={"key \udcff": 1})
    with pytest.raises(strata.InvalidUTF8):
        strata.Engine('{"defaults": {"category": "\udc80"}}')
    assert_intact(engine, ids)


def test_valid_non_ascii_text_round_trips(engine):
    text = "Zoë mag grüne Tee 🍵 — 日本語も"
    mid = engine.store(text, {"name": "Zoë", "emoji": "🍵"})
    m = engine.get(mid)
    assert m.content == text and m.metadata == {"name": "Zoë", "emoji": "🍵"}
    assert engine.recall("grüne Tee", k=1)[0].id == mid
    # NUL crosses JSON as \u0000 but is refused: C strings and keyword search cannot carry it
    # (README, "Trust"), so one rule holds for every face.
    with pytest.raises(strata.InvalidArgument, match="byte offset 1"):
        engine.store("a\x00b")
    assert engine.stats()["memories"] == 1


def test_invalid_arguments(seeded):
    engine, ids = seeded
    with pytest.raises(strata.InvalidArgument, match="importance"):
        engine.store("too important", importance=1.5)
    with pytest.raises(strata.InvalidArgument):
        engine.store("negative ttl", ttl_seconds=-1)
    with pytest.raises(strata.InvalidArgument, match=r"\.k must be"):
        engine.recall("tea", k=0)
    with pytest.raises(strata.InvalidJSON, match="visibility"):
        engine.store("odd", visibility="everyone")
    assert_intact(engine, ids)


def test_unknown_key_in_a_request_is_named(seeded):
    engine, ids = seeded
    with pytest.raises(strata.InvalidJSON, match="contnet"):
        engine.store_many([{"contnet": "typo"}])
    assert_intact(engine, ids)


def test_nan_in_json_is_invalid_json(seeded):
    engine, ids = seeded
    with pytest.raises((strata.InvalidJSON, strata.InvalidArgument)):
        engine.store("nan importance", importance=float("nan"))
    assert_intact(engine, ids)


def test_error_message_is_cleared_after_success(engine):
    with pytest.raises(strata.NotFound):
        engine.get("m-nope")
    engine.store("fine")
    assert ffi.string(lib.strata_error_last()) == b""


def test_errors_from_many_threads_keep_their_own_messages(engine):
    import threading

    results = {}

    def work(i: int) -> None:
        for _ in range(50):
            try:
                engine.get(f"m-thread-{i}")
            except strata.NotFound as e:
                if f"m-thread-{i}" not in str(e):
                    results[i] = str(e)
                    return
        results[i] = "ok"

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: "ok" for i in range(8)}
