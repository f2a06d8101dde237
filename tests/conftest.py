"""Shared fixtures: the whole program run offline per stack, and the vendored upstream reference data."""
from __future__ import annotations

import fcntl
import functools
import gc
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import pytest

if TYPE_CHECKING:
    from offline import runner as offline

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
# The deploy model reads the CLI's PULUMI_PARALLEL as `pulumi up` would (offline/deploy_model/engine.py): the tests'
# schedules are the default's, whatever the shell that runs them exports (a test that wants it sets it).
os.environ.pop("PULUMI_PARALLEL", None)


def _runner():
    """offline.runner (the Pulumi SDK and every component behind it), imported on first use: the xdist controller,
    which loads this file too but runs no test, never pays for it."""
    from offline import runner
    return runner


def _installed_package_is_current(name: str, distribution: str) -> None:
    """The tests import the package as installed (like any consumer); refuse to test a stale copy of the source.
    The package is found as `import` would find it, without running it (it imports the Pulumi SDK)."""
    import importlib.util
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        pytest.exit(f"{name} is not installed: run `make test` (it installs the package)", returncode=2)
    installed = Path(spec.origin).parent
    source = PROJECT_DIR / distribution / name
    stale = [str(p.relative_to(source)) for p in source.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts
             and (not (installed / p.relative_to(source)).is_file()
                  or (installed / p.relative_to(source)).read_bytes() != p.read_bytes())]
    if installed == source or stale:
        pytest.exit(f"the installed {name} ({installed}) differs from {distribution}/{name} in {stale[:5]}: "
                    "run `make test` (it reinstalls the package)", returncode=2)


_installed_package_is_current("llmplatform", "components")
_installed_package_is_current("endpoint_tools", "endpoint-tools")

# Vendored copy of the team's shared/upstream (see tests/upstream/README.md): every check runs in any clone.
UPSTREAM = PROJECT_DIR / "tests" / "upstream"

# An organisation's registry every image comes from (an Azure Policy that allows only it), on the variants that
# install every chart between them.
MIRROR = {"imageRegistry": "mirrorexample.azurecr.io",
          "imageRegistryId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-registry/"
                             "providers/Microsoft.ContainerRegistry/registries/mirrorexample"}

# Config variants beyond the two stack files, so every code path the config can reach is planned and validated.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    "dev-operator": ("dev", {"cluster": MIRROR, "gpu": {"driver": "operator", "vmSize": "Standard_ND96asr_v4"}}),
    # SMB, with the share's daily snapshots (Azure Backup backs up SMB shares only)
    "dev-smb-nogpu": ("dev", {"gpu": {"enabled": False}, "modelStore": {"protocol": "smb", "preloadDryRun": True,
                                                                          "snapshots": True},
                              "gateway": {"mode": "internal", "apiKeyAuth": False}, "webui": {"enabled": False},
                              "autoscaling": {"mode": "cpu", "minReplicas": 1, "scaleToZero": False}}),
    # dev GPU mode scales to zero: requests wait at the KEDA interceptor while a GPU node and replica start
    "dev-gpu": ("dev", {"inference": {"accelerator": "gpu"},
                        "autoscaling": {"minReplicas": 0, "scaleToZero": True}}),
    # the seed's GPU-memory HPA through Prometheus Adapter, KEDA off
    # a new stack's Azure names (hashed with the subscription: the shipped stack files keep their legacy ones) in
    # this variant, prod-tls and llmd-pd, so the whole-plan checks see both kinds
    "dev-gpu-hpa": ("dev", {"legacyGlobalNames": False, "inference": {"accelerator": "gpu"},
                            "autoscaling": {"mode": "gpu-memory", "minReplicas": 1, "scaleToZero": False}}),
    # a team's public UI: Entra ID sign-in (its client secret from Key Vault), a first admin, sign-up for approval,
    # models granted per group; the database's Entra administrators group; llm-d beside Ollama, published on the
    # external Gateway too (as a region behind the global endpoint runs it: global-endpoint-and-fleet.md)
    # on-demand GPU nodes upgraded with a surge node (the fallback's: gpu.upgradeMaxSurge)
    "prod-tls": ("prod", {"legacyGlobalNames": False, "cluster": MIRROR, "gpu": {"upgradeMaxSurge": "1"},
                          "gateway": {"tls": {"mode": "letsencrypt", "hostname": "llm.example.com",
                                              "email": "platform@example.com"}},
                          "llmd": {"enabled": True, "exposeExternally": True},
                          "postgres": {"entraAdminGroupId": "00000000-0000-0000-0000-000000000003",
                                       "entraAdminGroupName": "llm-platform-dba"},
                          "webui": {"adminEmail": "platform@example.com", "enableSignup": True,
                                    "modelAccess": "granted",
                                    "extraEnv": {"WEBUI_URL": "https://llm.example.com", "ENABLE_OAUTH_SIGNUP": True,
                                                 "MICROSOFT_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
                                                 "MICROSOFT_CLIENT_TENANT_ID": "00000000-0000-0000-0000-000000000002",
                                                 "MICROSOFT_REDIRECT_URI":
                                                     "https://llm.example.com/oauth/microsoft/callback"},
                                    "secretEnv": {"MICROSOFT_CLIENT_SECRET": "webui-entra-client-secret"}}}),
    # llm-d on an A100 pool (GPU Operator)
    "llmd": ("llmd", {}),
    # prefill/decode disaggregation on an InfiniBand size, as the comment in Pulumi.llmd.yaml turns it on
    "llmd-pd": ("llmd", {"legacyGlobalNames": False, "cluster": MIRROR,
                         "gpu": {"vmSize": "Standard_ND96isr_H100_v5"},
                         "llmd": {"prefillDecode": True, "autoscaling": False}}),
}


def upstream_dir() -> Path:
    """The vendored upstream data; its absence is a broken checkout, never a reason to skip."""
    assert UPSTREAM.is_dir(), f"{UPSTREAM} is missing: the upstream checks need it"
    return UPSTREAM


def remove_old_plans(folder: Path, older_than_s: float = 3600) -> None:
    """Earlier runs' shared plans; the workers of a run each do it as they start, so another may remove one first."""
    for old in folder.glob("llmplatform-plans-*"):
        try:
            if time.time() - old.stat().st_mtime > older_than_s:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            pass


@functools.lru_cache(maxsize=None)
def _plan(stack: str, overrides_json: str, preview: bool = False) -> offline.Plan:
    """A plan computed once per test run: under pytest-xdist the workers share it through a pickle, made under a
    lock by whichever worker asks first (a plan is the suite's most expensive step)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id:
        return _compute(stack, overrides_json, preview)
    shared = Path(tempfile.gettempdir()) / f"llmplatform-plans-{run_id}"
    if not shared.exists():
        remove_old_plans(shared.parent)
        shared.mkdir(exist_ok=True)
    key = hashlib.sha256(f"{stack}\0{overrides_json}\0{preview}".encode()).hexdigest()[:16]
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = shared / f"{key}.pickle"
        if cached.exists():
            return pickle.loads(cached.read_bytes())
        plan = _compute(stack, overrides_json, preview)
        cached.write_bytes(pickle.dumps(plan))
        return plan


def _compute(stack: str, overrides_json: str, preview: bool = False) -> offline.Plan:
    overrides = json.loads(overrides_json)
    # a global stack reads the regional stacks' outputs: from their (shared, cached) plans
    runner = _runner()
    referenced = runner.referenced_stacks(runner.stack_config(stack, overrides), runner.project_name())
    references = {region: plan_for(region).outputs for region in referenced}
    # no cyclic garbage collection during the run (as in `make plan`): pytest_runtest_protocol below turns it off
    return runner.run(stack, overrides, references=references, preview=preview)


def plan_for(stack: str, overrides: Optional[dict[str, Any]] = None) -> offline.Plan:
    """Each distinct (stack, overrides) runs once per session, in a fresh context and event loop. Every test shares
    it, so none may change it: `plans_left_as_made` checks that when the worker ends."""
    return _shared(stack, overrides, False)


def preview_for(stack: str, overrides: Optional[dict[str, Any]] = None) -> offline.Plan:
    """`plan_for`'s twin for the stack's `pulumi preview` with nothing created yet (`runner.run(preview=True)`; a
    global stack reads its regions' `up` plans, existing stacks): once per session, shared alike."""
    return _shared(stack, overrides, True)


def _shared(stack: str, overrides: Optional[dict[str, Any]], preview: bool) -> offline.Plan:
    if _COLLECTING:
        raise RuntimeError(f"plan_for({stack!r}) while pytest collects: parametrize by name and plan inside the test")
    key = (stack, json.dumps(overrides or {}, sort_keys=True), preview)
    plan = _plan(*key)
    if key not in _AS_MADE:
        _AS_MADE[key] = _digest(plan)
    return plan


# True while pytest collects (pytest_collection below)
_COLLECTING = False

# (stack, overrides, preview) -> the digest of its shared plan when this worker first had it
_AS_MADE: dict[tuple[str, str, bool], str] = {}


def _digest(plan: offline.Plan) -> str:
    """The plan's pickle, hashed: the same in one process while nothing in the plan changes (sets and dicts iterate
    alike under one hash seed)."""
    return hashlib.sha256(pickle.dumps(plan)).hexdigest()


def changed_plans() -> list[str]:
    """The shared plans a test changed since this worker first had them (a test that edits `plan.resources`,
    `inputs` or `options` in place instead of a copy changes what every later test on the worker reads: a failure
    that comes and goes with the order tests run in)."""
    return [f"{stack} {overrides}{' (preview)' if preview else ''}" for (stack, overrides, preview), made
            in _AS_MADE.items() if _digest(_plan(stack, overrides, preview)) != made]


@pytest.fixture(scope="session", autouse=True)
def plans_left_as_made():
    yield
    changed = changed_plans()
    if changed:
        pytest.fail("a test changed a shared plan in place (edit a copy: copy.deepcopy): "
                    + "; ".join(changed), pytrace=False)


def variant(name: str) -> offline.Plan:
    stack, overrides = VARIANTS[name]
    return plan_for(stack, overrides)


# The regional stacks the global stack reads, each planned from its own stack file.
REGIONS = ("prod-westeurope", "prod-swedencentral")
# Every planned variant, the global stack and the regional stacks.
PLANNED = [*sorted(VARIANTS), "global", *REGIONS]


def variant_or_stack(name: str) -> offline.Plan:
    """A variant's plan, or a stack's own (a regional stack, the global stack) by its name."""
    return variant(name) if name in VARIANTS else plan_for(name)


planned = variant_or_stack  # a name of PLANNED


@pytest.fixture(scope="session")
def dev() -> offline.Plan:
    return variant("dev")


@pytest.fixture(scope="session")
def prod() -> offline.Plan:
    return variant("prod")


@pytest.fixture(scope="session")
def global_plan() -> offline.Plan:
    return plan_for("global")


@pytest.fixture(params=sorted(VARIANTS), scope="session")
def any_plan(request) -> offline.Plan:
    return variant(request.param)


# The slowest files first (their wall time under `make test`, summed over the workers, 2026-12-07 at 77aed53a):
# pytest-xdist hands out whole files in collection order (pytest.ini's --no-loadscope-reorder: by default xdist
# re-sorts files by their number of tests and this order counted for nothing), so starting the long ones early keeps
# the workers finishing together (longest-processing-time-first). Every file of 2.5 s or more is named (7.5 s in the
# run measured, on a machine ~3x slower than a quiet one): one left to its place in the folders' order
# (test_deploy_model, 18 s, among the last offline/ files) ran alone at the run's end, as the earlier kit's re-plans
# (test_plan_diff_earlier_state, added since) did on 2026-12-07.
SLOW_FIRST = ("offline/test_plan_diff.py", "components/test_provider.py", "components/test_provider_languages.py",
              "offline/test_plan.py", "offline/test_plan_diff_earlier_state.py", "offline/test_deploy_model.py",
              "components/test_key_map_reload.py", "components/test_alert_rules_promtool.py", "program/test_package.py",
              "components/test_review7_shared_names.py", "config/test_loader.py", "program/test_policy_plugin.py",
              "components/test_late_shapes.py", "components/test_child_refusals.py", "components/test_testing_kit.py",
              "offline/test_scan.py", "offline/test_plan_diff_day2.py", "components/test_llmd_stack.py",
              "offline/test_plan_diff_crd_bundles.py", "offline/test_day2_procedures.py",
              "offline/test_stranger10_staging.py", "components/test_plain_inputs.py",
              "components/test_router_nginx.py", "config/test_global_stack.py", "components/test_refusal_names.py",
              "offline/test_stranger8_day2.py", "program/test_typing.py", "components/test_stranger4_consumer.py",
              "components/test_stranger5_consumer.py", "components/test_postgres_bootstrap.py",
              "components/test_webui_persistent_settings.py", "endpoint_tools/test_first_use.py",
              "offline/test_capacity.py", "components/test_stranger_inputs.py", "program/test_policy.py",
              "components/test_handle_field_refusals.py", "components/test_open_webui.py",
              "components/test_secret_protection.py", "offline/test_cost.py", "components/test_components_alone.py",
              "offline/test_plan_diff_property_deps.py", "offline/test_plan_diff_options.py",
              "components/test_api_gate.py", "components/test_stranger11_consumer.py", "program/test_docs.py",
              "components/test_front_door_logs.py", "offline/test_plan_diff_cross_stack.py",
              "offline/test_review_s8.py", "endpoint_tools/test_bench.py", "components/test_own_cluster.py",
              "offline/test_stackfile.py", "components/test_stranger7_consumer.py",
              "offline/test_plan_diff_write_gates.py", "components/test_aks_cluster.py", "components/test_two_teams.py",
              "endpoint_tools/test_verify_ollama.py")


# Test files by what they test (`pytest -m components` runs the component package's tests alone, `-m endpoint_tools`
# the operators' tools, `-m plan` the offline plan machinery, config and policy): every file is in exactly one, given by
# the folder that mirrors its source (tests/components/ for components/, tests/config/ for config/, ...); the
# whole-program tests in tests/program/ belong to no source folder and each names its suite here.
FOLDER_SUITES = {"components": "components", "config": "plan", "offline": "plan", "endpoint_tools": "endpoint_tools"}
PROGRAM_SUITES = {
    # the start scripts are the components' (preload Job, CSI secret export), run for real with /bin/sh
    "components": ("test_package.py", "test_typing.py", "test_upstream.py", "test_start_scripts.py"),
    "plan": ("test_docs.py", "test_doc_commands.py", "test_docs_upstream_clis.py", "test_policy.py",
             "test_policy_plugin.py", "test_workflows.py"),
}
SUITES = sorted(set(FOLDER_SUITES.values()))


def suite_of(path: Path) -> Optional[str]:
    """The suite of a test file, or None for a file in no suite."""
    folder, *rest = path.relative_to(PROJECT_DIR / "tests").parts
    if folder == "program":
        return next((suite for suite, names in PROGRAM_SUITES.items() if path.name in names), None)
    return FOLDER_SUITES.get(folder) if rest else None


# Net allocations of tracked objects (gc.get_count()[0]) after which a worker collects its cyclic garbage: a bound on
# memory as the suite grows, not reached today. A whole run of the suite (1,998 tests) stayed under 3.5 million at
# each test's end, at under 600 MB of memory per worker (VmHWM, 2026-12-01); a collection then costs 1-2.5 s.
COLLECT_AFTER = 10_000_000


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session):
    """The imports and the collection leave a large heap that lives as long as the worker: after them it is frozen
    (gc.freeze), so no collection walks it again. The collector stays off for the worker's life (see below).
    No plan may be made while collecting: every worker collects every file, so the others would wait on the one
    computing it, a plan at a time, before any test starts (`plan_for` refuses)."""
    global _COLLECTING
    gc.disable()
    _COLLECTING = True
    try:
        return (yield)
    finally:
        _COLLECTING = False
        gc.freeze()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Optional[pytest.Item]):
    """No automatic cyclic collection: a program run under the mocks allocates millions of short-lived objects, and
    the collector, triggered every 700 allocations, walked them (and the plans a worker keeps) thousands of times a
    run. Collecting once after each test still cost 2-4 s of CPU per worker (measured with gc.callbacks), walking the
    plans each test leaves alive. Almost all garbage is freed by reference counting; the cycles left are collected
    only when a worker's net allocations pass COLLECT_AFTER, so memory stays bounded."""
    gc.disable()
    try:
        return (yield)
    finally:
        if gc.get_count()[0] > COLLECT_AFTER:
            gc.collect()
            gc.freeze()  # what survived (the plans a worker keeps, mostly) is not walked again by the next one


def pytest_sessionfinish(session: pytest.Session) -> None:
    """pytest collects garbage once or twice when a worker ends (its unraisable-exception check, in
    pytest_unconfigure): over a heap no collection has walked, 1-2 s of CPU per worker, for a process about to exit.
    Frozen, the heap is not walked. The cost: with the collector off all session, no test's reference cycles are ever
    collected, so an exception raised in the finalizer of an object in one goes unreported by that check (a finalizer
    freed by reference counting, most of them, still reports as it runs)."""
    gc.freeze()


def pytest_configure(config: pytest.Config) -> None:
    for suite in SUITES:
        config.addinivalue_line("markers", f"{suite}: the {suite.replace('_', ' ')} tests (tests/conftest.py suite_of)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        suite = suite_of(item.path)
        if suite is None:
            raise pytest.UsageError(f"{item.path.relative_to(PROJECT_DIR)} is in no suite: put it in a folder of "
                                    "FOLDER_SUITES or name it in PROGRAM_SUITES (tests/conftest.py)")
        item.add_marker(suite)
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    tests = PROJECT_DIR / "tests"
    items.sort(key=lambda item: rank.get(item.path.relative_to(tests).as_posix(), len(SLOW_FIRST)))  # stable
