"""endpoint-tools/ as a distribution of its own: its modules import nothing of this repository and no Pulumi, only
the standard library and what its pyproject.toml declares; its console scripts and package exist; its declared
ranges hold the versions the tests run with. Pure reads of the tree and the installed metadata: nothing is built."""
import ast
import importlib.metadata
import re
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from endpoint_tools import bench
from tests.conftest import PROJECT_DIR
from tests.dependency_floors import floors_below_dependents

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


def _floor() -> tuple[int, int]:
    floor = re.fullmatch(r">=(\d+)\.(\d+)", PROJECT["requires-python"])
    assert floor, f"requires-python {PROJECT['requires-python']!r} is not a plain >=X.Y floor"
    return int(floor[1]), int(floor[2])


def _applies(req: Requirement, python: tuple[int, int], extra: str) -> bool:
    """Whether pip installs `req` on Python `python` when asked for `extra` ('' for the dependencies alone)."""
    version = f"{python[0]}.{python[1]}"
    return req.marker is None or req.marker.evaluate({"python_version": version, "python_full_version": f"{version}.0",
                                                      "extra": extra})


def test_every_dependency_installs_on_the_declared_python_floor():
    """requires-python said >=3.10 while the [bench] extra asked for matplotlib>=3.11.2, whose every release needs
    Python 3.11: on 3.10 `pip install "./endpoint-tools[bench]"` (the README's line) stopped with ResolutionImpossible.
    What pip installs at the floor, the extras included, must admit the floor: the version the tests run with (the
    pins, which the ranges hold: test above) declares a Requires-Python that holds it. A dependency the floor cannot
    have is left out there by a marker, and llm-bench says which Python its feature needs."""
    floor = _floor()
    extras = {dep: extra for extra, deps in (PROJECT.get("optional-dependencies") or {}).items() for dep in deps}
    for dep in PROJECT["dependencies"] + list(extras):
        req, extra = Requirement(dep), extras.get(dep, "")
        if not _applies(req, floor, extra):
            needs = bench.EXTRA_PYTHON.get(req.name)
            assert needs and not _applies(req, (needs[0], needs[1] - 1), extra) and _applies(req, needs, extra), (
                f"{dep}: llm-bench's EXTRA_PYTHON says {needs}, not the Python its marker starts at")
            continue
        requires_python = importlib.metadata.metadata(req.name).get("Requires-Python") or ""
        assert SpecifierSet(requires_python).contains(f"{floor[0]}.{floor[1]}.0"), (
            f"{dep}: {req.name} {importlib.metadata.version(req.name)} needs Python {requires_python}, and the tools "
            f"declare {PROJECT['requires-python']}")
    assert bench.EXTRA_PYTHON  # the marker above is read: matplotlib is left out on 3.10


def test_the_tools_use_nothing_of_the_standard_library_newer_than_their_floor():
    from tests.program.test_package import newer_stdlib_used
    needs = {f"{path.name}: {name}": version for path in sorted(PACKAGE.glob("*.py"))
             for name, version in newer_stdlib_used(path.read_text()).items()}
    assert {where: version for where, version in needs.items() if version > _floor()} == {}


def test_every_declared_floor_can_be_installed_beside_what_the_tools_need():
    """urllib3>=2 and pyyaml>=6.0 while the Kubernetes client the tools need asks urllib3>=2.8.0 and PyYAML>=6.0.3:
    floors no install could hold, never tried. Each is at least what the tools' other dependencies ask."""
    too_low, asking = floors_below_dependents(PROJECT["dependencies"] + [
        dep for deps in (PROJECT.get("optional-dependencies") or {}).values() for dep in deps])
    assert too_low == set(), sorted(too_low)
    assert {"kubernetes", "requests"} <= asking
