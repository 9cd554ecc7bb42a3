"""Issue 14: `strata plugin check` proved on deliberately broken plugins.

Tests/fixtures/contract/contract_store.c is one correct C vector store; built with
-DFAULT=<name> it carries one small bug. The correct plugin must pass every case of the check,
with a file (persistent) and without; each fault must fail the check, and among its failed cases
there must be one under the rule that the fault breaks, with a message.

Each check drives the built binary (see test_cli.py) on its own folder of store files.
"""

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from test_cli import BIN

ROOT = Path(__file__).resolve().parents[2]

# This module starts many `strata plugin check` processes at once from a thread pool. Twice under
# load one of them failed to start with OSError EFAULT ("Bad address") from CPython's vfork path
# (the child shares the parent's memory while other threads run); fork is the conservative path.
subprocess._USE_VFORK = False
SOURCE = ROOT / "Tests" / "fixtures" / "contract" / "contract_store.c"
CFLAGS = ["-std=c11", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-pthread",
          "-I", str(ROOT / "include")]

# Each fault of contract_store.c and the rule that must catch it.
FAULTS = {
    "get_ok_absent": "get.not_found",
    "half_batch": "upsert.all_or_none",
    "ignore_k": "search.k",
    "no_message": "failure.message",
    "no_lock": "threads",
    "accept_nan": "upsert.non_finite",
    "l2_sign": "metric.l2",
    "no_reload": "reopen",
    "json_rewrite": "json.verbatim",
    "history_reversed": "history.order",
    "commit_partial": "commit.all_or_none",
    "remove_then_upsert": "commit.order",
    "stride_sizeof": "upsert.stride",
    "ties_dedupe": "search.ties",
    "caps_unknown_bit": "capabilities",
    "unknown_option_ok": "create.options",
    "dimension_unchecked": "upsert.dimension",
    "remove_counts_unknown": "remove.count",
    "stop_ignored": "callback.stop",
    "no_replace": "upsert.replace",
    "search_unfiltered": "search.filter",
    "scan_unfiltered": "search.filter",  # scan.filter has no case of its own (docs/plugins.md)
    "cosine_as_dot": "metric.cosine",
    "metric_any": "create.options",
    "history_all_ids": "history.order",
    "null_count_ok": "arguments.null",
    "crash_on_k0": "search.k",
    "hang_on_unknown": "remove.count",
    "report_twice": "index.report",
}

# Faults that crash or hang the plugin: the check must name the case and go on with the rest.
ISOLATED = {"crash_on_k0": "crashed with signal 11", "hang_on_unknown": "did not finish within 5 s"}


@pytest.fixture(scope="module")
def plugins(tmp_path_factory) -> dict:
    """Builds the correct plugin (key None) and every fault into one private folder: the loader
    refuses a plugin, or a folder holding one, that others may write or another user owns."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc)")
    folder = tmp_path_factory.mktemp("contract-plugins")
    folder.chmod(0o700)

    def build(fault):
        out = folder / f"libstrata-contract{'-' + fault if fault else ''}.so"
        define = [f"-DFAULT={fault}"] if fault else []
        p = subprocess.run([cc, *CFLAGS, *define, str(SOURCE), "-o", str(out)], capture_output=True, text=True)
        assert p.returncode == 0, f"cc {' '.join(define)} failed:\n{p.stderr}"
        out.chmod(0o755)
        return fault, out

    with ThreadPoolExecutor() as pool:
        return dict(pool.map(build, [None, *FAULTS]))


def check(plugin: Path, data: Path | None, case_timeout: int = 300) -> tuple[int, dict]:
    """`strata plugin check PLUGIN --json`, with a store file per case under `data` when given."""
    args = [str(BIN), "plugin", "check", str(plugin), "--json", "--case-timeout", str(case_timeout)]
    if data is not None:
        args += ["--options", json.dumps({"path": f"{data}/{{n}}.db"})]
    p = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert p.stdout, f"plugin check printed nothing (exit {p.returncode}): {p.stderr[-2000:]}"
    return p.returncode, json.loads(p.stdout)


@pytest.fixture(scope="module")
def fault_checks(request, plugins, tmp_path_factory) -> dict:
    """The check of every fault this session runs, started at once on a pool (a check spends
    most of its time waiting for fsync) and awaited by each fault's own test."""
    selected = [item.callspec.params["fault"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec") and "fault" in item.callspec.params]
    pool = ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2))
    request.addfinalizer(pool.shutdown)
    return {fault: pool.submit(check, plugins[fault], tmp_path_factory.mktemp(f"check-{fault}"), 5 if fault == "hang_on_unknown" else 300)
            for fault in selected}


def failed(report: dict) -> list[dict]:
    return [c for c in report["cases"] if not c["passed"]]


def summary(cases: list[dict]) -> str:
    return "\n".join(f"  [{c['rule']}] {c['name']}: {c['failure']}" for c in cases) or "  (none)"


def test_every_fault_in_the_source_is_tested():
    defined = re.findall(r"^#define FAULT_(\w+) \d+\s+/\* ([\w.]+):", SOURCE.read_text(), re.MULTILINE)
    assert dict(defined) == FAULTS, "the faults of contract_store.c and their rules, as its comments list them"


@pytest.mark.parametrize("persistent", [True, False], ids=["with-path", "in-memory"])
def test_the_correct_plugin_passes_every_case(plugins, tmp_path, persistent):
    """With a "path" the store reports STRATA_STORE_PERSISTENT (the reopen case runs); without
    one it lives in memory and does not."""
    code, report = check(plugins[None], tmp_path if persistent else None)
    assert code == 0 and report["failed"] == 0, f"the correct plugin failed:\n{summary(failed(report))}"
    assert report["plugin"] == "contract" and report["passed"] == len(report["cases"])
    rules = {c["rule"] for c in report["cases"]}
    assert set(FAULTS.values()) <= rules, f"the check has no case for {sorted(set(FAULTS.values()) - rules)}"
    if persistent:
        assert list(tmp_path.glob("*.db")), "with a path the store writes its files"
        assert not list(tmp_path.glob("*.tmp")), "no temporary file is left behind"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_plugin_fails_under_its_rule(fault_checks, fault):
    rule = FAULTS[fault]
    code, report = fault_checks[fault].result()
    broken = failed(report)
    assert code == 1 and report["failed"] == len(broken) > 0, f"-DFAULT={fault} passed the check (exit {code})"
    caught = [c for c in broken if c["rule"] == rule]
    assert caught, f"-DFAULT={fault} was not caught under [{rule}]; its failed cases:\n{summary(broken)}"
    assert all(c["failure"] for c in caught), f"a failed [{rule}] case has no message:\n{summary(caught)}"


@pytest.mark.parametrize("fault", list(ISOLATED))
def test_a_crash_or_a_hang_fails_its_case_and_the_check_goes_on(fault_checks, plugins, tmp_path, fault):
    """Each case runs in a child process: a plugin that crashes or hangs fails the case that was
    running, by name, and a new child runs the cases after it."""
    code, report = fault_checks[fault].result()
    _, correct = check(plugins[None], tmp_path)
    names = [c["name"] for c in correct["cases"]]
    assert [c["name"] for c in report["cases"]] == names, "every case of the check is reported once, in order"
    hit = [c for c in failed(report) if ISOLATED[fault] in (c["failure"] or "")]
    assert hit and hit[0]["rule"] == FAULTS[fault], f"no case failed with \"{ISOLATED[fault]}\":\n{summary(failed(report))}"
    after = report["cases"][names.index(hit[-1]["name"]) + 1:]
    assert after and any(c["passed"] for c in after), "the cases after the crash or hang ran, and some passed"


def test_a_misspelt_fault_is_refused_at_build_time():
    cc = shutil.which("cc") or pytest.skip("no C compiler (cc)")
    p = subprocess.run([cc, *CFLAGS, "-fsyntax-only", "-DFAULT=no_mesage", str(SOURCE)], capture_output=True, text=True)
    assert p.returncode != 0 and "unknown FAULT" in p.stderr
