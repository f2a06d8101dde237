"""endpoint-tools/ as a distribution of its own: its modules import nothing of this repository and no Pulumi, only
the standard library and what its pyproject.toml declares; its console scripts and package exist; its declared
ranges hold the versions the tests run with. Pure reads of the tree and the installed metadata: nothing is built."""
import ast
import importlib.metadata
import re
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_DIR

DIST_DIR = PROJECT_DIR / "endpoint-tools"
PACKAGE = DIST_DIR / "endpoint_tools"
PROJECT = tomllib.loads((DIST_DIR / "pyproject.toml").read_text())["project"]
# What the tools must run without: the Pulumi SDK, the component package and this repository's own folders.
FORBIDDEN = {"pulumi", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_random", "pulumi_policy", "llmplatform",
             "config", "offline", "tools", "components", "policy", "tests"}


def _requirements() -> list[Requirement]:
    extras = [dep for deps in (PROJECT.get("optional-dependencies") or {}).values() for dep in deps]
    return [Requirement(dep) for dep in PROJECT["dependencies"] + extras]


def _imports(path) -> set[str]:
    """Top-level names of every absolute import in the module (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_is_the_standard_library_its_own_package_or_a_declared_dependency():
    declared = {canonicalize_name(req.name) for req in _requirements()}
    providers = importlib.metadata.packages_distributions()  # import name -> the installed distributions providing it
    modules = sorted(PACKAGE.glob("*.py"))
    assert {p.stem for p in modules} >= {"llm_api", "endpoint", "smoke", "bench", "stats", "verify",
                                         "loopback_server", "bench_loopback"}
    for path in modules:
        for name in _imports(path) - set(sys.stdlib_module_names) - {"endpoint_tools"}:
            assert name not in FORBIDDEN, f"{path.name} imports {name}"
            dists = {canonicalize_name(d) for d in providers.get(name, [])}
            assert dists & declared, f"{path.name} imports {name} ({sorted(dists)}), not declared in pyproject.toml"


def test_declared_scripts_and_package_exist_and_are_installed():
    packages = tomllib.loads((DIST_DIR / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert packages == ["endpoint_tools"] and (PACKAGE / "__init__.py").is_file()
    scripts = PROJECT["scripts"]
    assert set(scripts) == {"llm-smoke", "llm-bench", "llm-verify"}
    for command, target in scripts.items():
        module, function = target.split(":")
        tree = ast.parse((DIST_DIR / (module.replace(".", "/") + ".py")).read_text())
        assert function in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, target
    # the installed distribution (tests/conftest.py refuses stale module files) carries the same entry points
    dist = importlib.metadata.distribution(PROJECT["name"])
    assert dist.version == PROJECT["version"]
    assert {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"} == scripts


def test_declared_ranges_hold_the_pinned_versions_the_tests_run_with():
    pins = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (PROJECT_DIR / name).read_text().splitlines():
            if match := re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line):
                pins[canonicalize_name(match[1])] = match[2]
    for req in _requirements():
        name = canonicalize_name(req.name)
        if name in pins:  # urllib3 comes with requests, unpinned: the installed one must fit the range
            version = pins[name]
        else:
            version = importlib.metadata.version(name)
        assert req.specifier.contains(version), f"{req} does not allow {name} {version}"
        assert importlib.metadata.version(name) == version, f"{name}: installed {importlib.metadata.version(name)}"
