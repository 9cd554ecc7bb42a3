"""The default embedder of `strata init` and `strata demo`: minilm when its model is installed,
else hashing with a one-line notice saying why; --embedder and STRATA_EMBEDDER choose.

Needs the model scripts/setup installs (scripts/install-model) in its default folder.
"""

import json
import re

from test_cli import Store, strata

MINILM = {"backend": "minilm", "plugin": "minilm"}
HASHING = {"backend": "hashing"}
# The model id, then "@crc32c:" and the digest of the weights as loaded (the embedding space).
MINILM_ID = "minilm:sentence-transformers/all-MiniLM-L6-v2"
AUTO = {"STRATA_EMBEDDER": "auto"}


def missing_model(tmp_path):
    """STRATA_MINILM_DIR naming a folder that does not exist: minilm's model is not installed."""
    return {"STRATA_EMBEDDER": "auto", "STRATA_MINILM_DIR": str(tmp_path / "no-model")}


def written(tmp_path):
    return json.loads((tmp_path / ".strata" / "strata.json").read_text())


def test_init_uses_minilm_when_its_model_is_installed(tmp_path):
    r = strata("init", cwd=tmp_path, env=AUTO)
    assert r.code == 0, r.err
    assert r.err == "", "no notice when minilm is used"
    assert written(tmp_path)["embedder"] == MINILM
    assert re.search(rf"^Embedder: {re.escape(MINILM_ID)}@crc32c:[0-9a-f]{{8}} \(384 dimensions\)\.$", r.out, re.M), r.out
    s = Store(tmp_path)
    s.ok("add", "Alice prefers a window seat when she flies long distances", env=AUTO)
    s.ok("add", "Bob is allergic to peanuts", env=AUTO)
    hits = s.json("recall", "Where does Alice like to sit on a plane?", env=AUTO)["hits"]
    assert hits[0]["content"] == "Alice prefers a window seat when she flies long distances"
    assert s.json("stats", env=AUTO)["dimension"] == 384


def test_init_falls_back_to_hashing_with_one_line_naming_the_folder_and_the_install_command(tmp_path):
    env = missing_model(tmp_path)
    r = strata("init", "--json", cwd=tmp_path, env=env)
    assert r.code == 0, r.err
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("strata: notice: embedding with the hashing embedder")
    assert str(tmp_path / "no-model") in lines[0] and "scripts/install-model" in lines[0]
    assert written(tmp_path)["embedder"] == HASHING
    answer = r.json()
    assert answer["embedder"] == "hashing-v1-256" and str(tmp_path / "no-model") in answer["embedder_notice"]
    # The store keeps the embedder it was made with, model or no model.
    assert Store(tmp_path).json("stats")["dimension"] == 256


def test_init_embedder_minilm_without_its_model_is_an_error_and_writes_nothing(tmp_path):
    r = strata("init", "--embedder", "minilm", cwd=tmp_path, env=missing_model(tmp_path))
    assert r.code == 16, r.err
    assert str(tmp_path / "no-model") in r.err and "scripts/install-model" in r.err
    assert not (tmp_path / ".strata" / "strata.json").exists()


def test_init_embedder_hashing_is_chosen_without_a_notice(tmp_path):
    r = strata("init", "--embedder", "hashing", cwd=tmp_path, env=AUTO)
    assert r.code == 0 and r.err == "", r.err
    assert written(tmp_path)["embedder"] == HASHING


def test_an_unknown_STRATA_EMBEDDER_is_refused(tmp_path):
    r = strata("init", cwd=tmp_path, env={"STRATA_EMBEDDER": "word2vec"})
    assert r.code == 11 and "STRATA_EMBEDDER=word2vec" in r.err and "minilm" in r.err
    assert not (tmp_path / ".strata").exists()


def test_init_force_keeps_the_embedder_and_refuses_another_while_memories_are_there(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--embedder", "hashing")
    mid = s.add("kept across a forced init")
    # auto over an existing store keeps its embedder: its vectors stay comparable.
    s.ok("init", "--force", env=AUTO)
    assert written(tmp_path)["embedder"] == HASHING
    r = s.fails(24, "init", "--force", "--embedder", "minilm", env=AUTO)
    assert "1 memory embedded by hashing-v1-256" in r.err and "strata reembed --embedder minilm" in r.err
    assert written(tmp_path)["embedder"] == HASHING
    assert s.json("get", mid)["content"] == "kept across a forced init"
    # Without memories the embedder may change (in other files: a SQLite file keeps its dimension).
    s.ok("forget", mid)
    s.ok("init", "--force", "--preset", "memory", "--embedder", "minilm", env=AUTO)
    assert written(tmp_path)["embedder"] == MINILM


def test_demo_recalls_the_paraphrase_with_minilm(tmp_path):
    r = strata("demo", "--json", cwd=tmp_path, env=AUTO)
    assert r.code == 0, r.err
    answer = r.json()
    assert answer["embedder"].startswith(MINILM_ID + "@crc32c:") and answer["embedder_notice"] is None
    assert answer["failures"] == [] and answer["unchecked"] == []
    plane = next(q for q in answer["queries"] if q["query"] == "Where does Alice like to sit on a plane?")
    assert plane["checked"] and plane["ok"]
    assert plane["hits"][0]["content"] == "Alice prefers a window seat when she flies long distances."


def test_demo_without_the_model_says_why_and_does_not_count_the_paraphrase(tmp_path):
    r = strata("demo", cwd=tmp_path, env=missing_model(tmp_path))
    assert r.code == 0, r.err
    assert len(r.err.splitlines()) == 1 and "scripts/install-model" in r.err
    assert "hashing-v1-256 embedder" in r.out
    assert "1 paraphrase query not checked" in r.out
    answer = strata("demo", "--json", cwd=tmp_path, env=missing_model(tmp_path)).json()
    assert answer["unchecked"] == ["Where does Alice like to sit on a plane?"] and answer["failures"] == []
