"""`strata plugin check` against the embedder and summarizer contracts (issue 14).

Tests/fixtures/contract/contract_seams.c is a correct C plugin offering both seams; built with
-DFAULT=<name> it becomes a copy with one deliberate fault. The correct plugin must pass every
case, and each copy must fail, with only its own rule among the failed cases of the raw contract
suites ("embedder", "summarizer"). The suites through the host's adapter ("... via host") may
fail a mutant too; they name no contract rule, so they are not what this test is about.

Runs the built binary (STRATA_CLI, default .build/debug/strata-cli) and the system's `cc`.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
SOURCE = ROOT / "Tests" / "fixtures" / "contract" / "contract_seams.c"

# Each fault of contract_seams.c and the one rule the checker must name for it.
MUTANTS = {
    "nondeterministic": "embedder.deterministic",
    "batch_differs": "embedder.batch",
    "writes_on_empty": "embedder.empty_batch",
    "no_message": "failure.message",
    "over_budget": "summarizer.max_chars",
    "called_twice": "summarizer.once",
    "bad_utf8": "summarizer.utf8",
}

# The suites that call the vtable directly, and the rules they check.
RAW_SUITES = {"embedder", "summarizer"}
RULES = {
    "embedder": {
        "create.options", "embedder.dimension", "embedder.model_id", "embedder.deterministic", "embedder.batch",
        "embedder.empty_text", "embedder.long_text", "embedder.empty_batch", "failure.message", "threads",
    },
    "summarizer": {
        "create.options", "summarizer.once", "summarizer.max_chars", "summarizer.utf8", "summarizer.empty",
        "failure.message",
    },
}


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    """Builds the correct plugin and every mutant into a folder only this user can write
    (the host refuses a plugin in a folder others can write to)."""
    folder = tmp_path_factory.mktemp("seam-contract")
    folder.chmod(0o700)
    assert folder.stat().st_uid == os.getuid()
    built = {}
    for fault in ["none", *MUTANTS]:
        out = folder / f"libstrata-contract-{fault}.so"
        p = subprocess.run(
            ["cc", "-std=c11", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror",
             "-I", str(ROOT / "include"), f"-DFAULT={fault}", str(SOURCE), "-o", str(out), "-lm"],
            capture_output=True, text=True)
        assert p.returncode == 0, f"cc -DFAULT={fault} failed:\n{p.stderr}"
        built[fault] = out
    return built


def check(plugin: Path):
    """Runs `strata plugin check PLUGIN --json`: the exit code and the report."""
    p = subprocess.run([str(BIN), "plugin", "check", str(plugin), "--json"], capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"plugin check exited {p.returncode} without a JSON report:\n{p.stdout}\n{p.stderr}")
    return p.returncode, report


def test_a_misspelt_fault_is_refused_at_build_time(tmp_path):
    p = subprocess.run(["cc", "-std=c11", "-fsyntax-only", "-I", str(ROOT / "include"), "-DFAULT=no_mesage", str(SOURCE)],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "FAULT must be one of" in p.stderr


def test_the_correct_plugin_passes_every_case_of_every_rule(plugins):
    code, report = check(plugins["none"])
    failed = [c for c in report["cases"] if not c["passed"]]
    assert code == 0 and report["failed"] == 0, f"failed cases: {json.dumps(failed, indent=1)}"
    assert report["passed"] == len(report["cases"])
    for suite, rules in RULES.items():
        ran = {c["rule"] for c in report["cases"] if c["suite"] == suite}
        assert ran >= rules, f"{suite}: no case for {sorted(rules - ran)}"
    suites = {c["suite"] for c in report["cases"]}
    assert {"embedder via host", "summarizer via host"} <= suites, "the adapter suites still run after the raw contract"


@pytest.mark.parametrize("fault", MUTANTS)
def test_each_mutant_fails_with_its_rule_named(plugins, fault):
    code, report = check(plugins[fault])
    assert code == 1, f"-DFAULT={fault}: plugin check exited {code}, expected 1"
    raw_failures = [c for c in report["cases"] if not c["passed"] and c["suite"] in RAW_SUITES]
    rules = {c["rule"] for c in raw_failures}
    assert rules == {MUTANTS[fault]}, (
        f"-DFAULT={fault} should fail under {MUTANTS[fault]} only; failed: "
        + json.dumps([{k: c[k] for k in ("suite", "rule", "name", "failure")} for c in raw_failures], indent=1))
    assert all(c["failure"] for c in raw_failures), "every failed case says what went wrong"
