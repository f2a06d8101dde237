"""llmplatform as a product of its own: an installable wheel a foreign project imports, a component provider
whose inferred schema describes every input and output, and examples that use it as strangers would."""
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from typing import Optional

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import llmplatform
from llmplatform.provider import package_schema
from components.maintenance import generate_schema as schema_tool

from tests.conftest import PROJECT_DIR
from tests.dependency_floors import floor, floors_below_dependents

COMPONENTS_DIR = PROJECT_DIR / "components"
EXAMPLES = PROJECT_DIR / "examples"


@pytest.fixture(scope="module")
def schema():
    return package_schema()


def test_schema_is_inferred_for_every_component(schema):
    assert set(schema["resources"]) == {f"llmplatform:index:{name}" for name in llmplatform.COMPONENTS}
    assert schema["name"] == "llmplatform" and schema["version"] == llmplatform.__version__


def _properties(schema):
    for token, resource in schema["resources"].items():
        yield from ((token, "input", n, p) for n, p in resource.get("inputProperties", {}).items())
        yield from ((token, "output", n, p) for n, p in resource.get("properties", {}).items())
    for token, type_ in schema["types"].items():
        yield from ((token, "field", n, p) for n, p in type_.get("properties", {}).items())


def test_every_component_type_input_and_output_is_described(schema):
    undocumented = [f"{t} {kind} {n}" for t, kind, n, p in _properties(schema) if not p.get("description")]
    assert not undocumented
    assert all(r.get("description") for r in schema["resources"].values())
    assert all(t.get("description") for t in schema["types"].values())


def test_secrets_are_marked_in_the_schema(schema):
    secret = {(t, n) for t, _, n, p in _properties(schema) if p.get("secret")}
    assert ("llmplatform:index:AksCluster", "kubeconfig") in secret
    # no handle type holds a secret: over the wire one secret field makes the whole handle secret
    assert not any(t.startswith("llmplatform:index:") and t.rsplit(":", 1)[-1].endswith(("Handle", "Scheduling",
                   "Volume", "Target", "Server", "Endpoints")) for t, n in secret)
    # nothing else is secret by accident, and everything described as secret is marked
    said_secret = {(t, n) for t, _, n, p in _properties(schema) if p["description"].rstrip().endswith("Secret.")}
    assert secret == said_secret


def test_inputs_are_plain_serialisable_values(schema):
    """No component objects or resource lists as inputs: only primitives, lists, maps and the package's types."""
    for token, kind, name, prop in _properties(schema):
        if kind == "output":
            continue
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref") or prop.get(
            "additionalProperties", {}).get("$ref") or ""
        assert not ref or ref.startswith("#/types/llmplatform:index:"), f"{token}.{name} refers to {ref}"


def test_committed_schema_and_reference_match_the_code(schema):
    # the module's schema (package_schema(), as `make schema` infers it), not inferred twice more
    assert (COMPONENTS_DIR / "schema.json").read_text() == schema_tool.schema_text(schema), "run `make schema`"
    assert schema_tool.REFERENCE.read_text() == schema_tool.reference_text(schema), "run `make schema`"


def test_distribution_metadata_is_consistent():
    project = tomllib.loads((COMPONENTS_DIR / "pyproject.toml").read_text())["project"]
    assert project["name"] == "llmplatform" and project["version"] == llmplatform.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert f"## {project['version']}" in (PROJECT_DIR / "CHANGELOG.md").read_text()
    # every runtime dependency is a compatible range, and the plugin's requirements.txt says the same
    assert all(re.search(r">=[\d.]+", dep) for dep in project["dependencies"])
    plugin = [line for line in (COMPONENTS_DIR / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert sorted(plugin) == sorted(project["dependencies"])
    assert yaml.safe_load((COMPONENTS_DIR / "PulumiPlugin.yaml").read_text())["runtime"] == "python"


def _declared() -> dict[str, str]:
    """The package's requirements, its dependencies and its extras', by canonical name."""
    project = tomllib.loads((COMPONENTS_DIR / "pyproject.toml").read_text())["project"]
    extras = [dep for deps in project["optional-dependencies"].values() for dep in deps]
    return {canonicalize_name(Requirement(dep).name): dep for dep in project["dependencies"] + extras}


def test_every_declared_floor_can_be_installed_beside_what_the_package_needs():
    """The package said typing-extensions>=4.7 and jsonschema>=4.18 while pulumi needs typing-extensions>=4.11 and
    kubernetes-validate jsonschema>=4.23: floors no install could hold, so a reader of the ranges (or a resolver
    trying the lowest) was told of versions never tried. Each floor is at least what each of the package's own
    dependencies (as installed here) asks of the same dependency. (Seen with the floors installed, kubernetes-validate
    at 1.36: requests 2.31.0, PyYAML 6.0, typing-extensions 4.11.0, jsonschema 4.23.0 plan dev and prod alike.)"""
    too_low, asking = floors_below_dependents(_declared().values())
    assert too_low == set(), sorted(too_low)
    assert asking >= {"pulumi", "kubernetes-validate"}  # the SDK's and the schema library's needs were read


def test_the_kits_schema_library_floor_ships_every_kubernetes_version_it_checks():
    """kubernetes-validate X.Y ships the API schemas up to Kubernetes X.Y (as installed here: its newest folder is its
    own minor); the testing extra allowed 1.35, which refused every object against AKS's 1.36."""
    from llmplatform.kubernetes_schemas import AKS_KUBERNETES_VERSIONS
    import kubernetes_validate
    folder = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
    shipped = max(tuple(int(p) for p in re.match(r"v(\d+)\.(\d+)", name).groups()) for name in os.listdir(folder)
                  if re.match(r"v\d+\.\d+\.\d+-local-strict$", name))
    installed = tuple(int(p) for p in importlib.metadata.version("kubernetes-validate").split(".")[:2])
    assert shipped == installed  # the convention the floor relies on, held by the version tested
    needed = max(tuple(int(p) for p in version.split(".")[:2]) for version in AKS_KUBERNETES_VERSIONS)
    floor_ = floor(Requirement(_declared()["kubernetes-validate"]).specifier)
    assert floor_ and floor_.release[:2] >= needed, (_declared()["kubernetes-validate"], needed)


# Names of the standard library the package may use only from the Python version given (What's New in Python 3.11,
# 3.12, 3.13); typing.TypedDict honours typing_extensions.NotRequired from 3.11 only (before, every key of a total
# TypedDict is in __required_keys__, so every optional input would be "required")
NEWER_STDLIB = {("typing", name): (3, 11) for name in ("NotRequired", "Required", "Self", "LiteralString", "Never",
                                                      "assert_never", "reveal_type", "Unpack", "TypeVarTuple",
                                                      "dataclass_transform")}
NEWER_STDLIB |= {("typing", "override"): (3, 12), ("typing", "ReadOnly"): (3, 13), ("typing", "TypeIs"): (3, 13),
                 ("tomllib", None): (3, 11), ("enum", "StrEnum"): (3, 11), ("datetime", "UTC"): (3, 11),
                 ("asyncio", "TaskGroup"): (3, 11), ("builtins", "ExceptionGroup"): (3, 11)}


def newer_stdlib_used(source: str) -> dict[str, tuple[int, int]]:
    """Each name of NEWER_STDLIB a module's source uses (`typing.X`, `from typing import X`, `import tomllib`), with
    the Python version it needs; a typing.TypedDict given typing_extensions' NotRequired counts as 3.11's."""
    import ast
    used: dict[str, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(source)):
        found: list[tuple[str, Optional[str]]] = []
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found = [(node.value.id, node.attr)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.Name) and node.id == "ExceptionGroup":
            found = [("builtins", "ExceptionGroup")]
        used |= {f"{module}.{name}" if name else module: NEWER_STDLIB[(module, name)] for module, name in found
                 if (module, name) in NEWER_STDLIB}
    if re.search(r"^from typing import [^\n]*\bTypedDict\b", source, re.M) and \
            re.search(r"^from typing_extensions import [^\n]*\bNotRequired\b", source, re.M):
        used["typing.TypedDict with NotRequired"] = (3, 11)
    return used


def test_the_declared_python_floor_runs_what_the_package_uses():
    """requires-python said >=3.10 while the package reads typing.NotRequired (3.11): on 3.10 pip installed it and the
    first component stopped with AttributeError: module 'typing' has no attribute 'NotRequired'. The floor pip
    checks is now at least the newest version any module of the package needs, so pip refuses an older Python."""
    assert newer_stdlib_used("import typing\nimport tomllib\nx: typing.Self\n") == {"typing.Self": (3, 11),
                                                                                       "tomllib": (3, 11)}
    floor = re.fullmatch(r">=(\d+)\.(\d+)", tomllib.loads((COMPONENTS_DIR / "pyproject.toml").read_text())["project"][
        "requires-python"])
    assert floor, "requires-python is not a plain >=X.Y floor"
    needs = {f"{path.relative_to(COMPONENTS_DIR)}: {name}": version for path in (COMPONENTS_DIR / "llmplatform").rglob(
        "*.py") for name, version in newer_stdlib_used(path.read_text()).items()}
    assert needs  # the package does use 3.11's typing: the scan sees it
    declared = (int(floor.group(1)), int(floor.group(2)))
    assert {where: version for where, version in needs.items() if version > declared} == {}, declared


def test_package_reads_its_data_from_itself_not_the_program():
    source = COMPONENTS_DIR / "llmplatform"
    for path in source.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (config|components|tools|offline|endpoint_tools)\b", text, re.M), path
        assert "from __future__ import annotations" not in text, f"{path}: the schema analyzer needs real annotations"


def test_maintenance_scripts_use_the_installed_package_and_nothing_of_the_repository():
    """components/maintenance (make schema, make pin-digests) runs from the repository root, where `llmplatform`
    resolves to the installed package (tests/conftest.py refuses a stale one): no sys.path games, no import of the
    endpoint tools or the plan machinery, only the standard library, requests and llmplatform."""
    import ast
    for path in sorted((COMPONENTS_DIR / "maintenance").glob("*.py")):
        text = path.read_text()
        assert "sys.path" not in text, path.name
        names = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
        assert names - set(sys.stdlib_module_names) <= {"requests", "llmplatform"}, (path.name, names)
    assert not (PROJECT_DIR / "llmplatform").exists()  # nothing at the root shadows the installed package


# ---- the YAML example, checked against the schema ---------------------------------------------------------------

def _check_value(value, prop, schema, where, problems):
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/") and isinstance(value, dict):
        type_ = schema["types"][ref.removeprefix("#/types/")]
        for key in value:
            if key not in type_["properties"]:
                problems.append(f"{where}.{key}: not a field of {ref.rsplit(':', 1)[-1]}")
            else:
                _check_value(value[key], type_["properties"][key], schema, f"{where}.{key}", problems)
        problems += [f"{where}.{key}: required" for key in type_.get("required", []) if key not in value]


def test_yaml_example_uses_three_components_as_the_schema_defines_them(schema):
    program = yaml.safe_load((EXAMPLES / "yaml-consumer" / "Pulumi.yaml").read_text())
    resources = program["resources"]
    ours = {name: r for name, r in resources.items() if r["type"].startswith("llmplatform:")}
    assert len({r["type"] for r in ours.values()}) >= 3
    problems = []
    for name, resource in ours.items():
        spec = schema["resources"][resource["type"]]
        props = resource.get("properties", {})
        problems += [f"{name}.{k}: not an input" for k in props if k not in spec["inputProperties"]]
        problems += [f"{name}.{k}: required" for k in spec.get("requiredInputs", []) if k not in props]
        for key, value in props.items():
            if key in spec["inputProperties"]:
                _check_value(value, spec["inputProperties"][key], schema, f"{name}.{key}", problems)
    # every ${resource.output} names an output the schema declares
    text = (EXAMPLES / "yaml-consumer" / "Pulumi.yaml").read_text()
    for res, out in re.findall(r"\$\{([\w-]+)\.(\w+)\}", text):
        assert out in schema["resources"][resources[res]["type"]]["properties"], f"{res}.{out}"
    assert not problems, problems


# ---- a foreign Python project, with only the built wheel and the SDKs importable -------------------------------

HARNESS = """
import gc, json, os, sys
gc.set_threshold(10_000, 10, 10)  # as the suite's plugins (offline/plugin_site): a run under the mocks allocates a lot
target, program, repo = sys.argv[1:4]
# the program and the wheel's target first; the interpreter's own paths (stdlib, SDKs); never the repository
sys.path = [program, target] + [p for p in sys.path if p not in ("", ".", repo)]
import llmplatform
assert llmplatform.__file__.startswith(target), llmplatform.__file__
# the project's own tests (test_program.py), written with the package's testing kit, from the wheel alone, run as its
# README runs them (`cd examples/python-consumer && python -m pytest -q test_program.py`): pytest finds its settings
import pytest
settings = {}

class Settings:
    def pytest_configure(self, config):
        settings.update(rootdir=str(config.rootpath), inifile=str(config.inipath), collected=0)

    def pytest_collection_finish(self, session):
        settings["collected"] = len(session.items)

os.chdir(program)
status = pytest.main(["-q", "-p", "no:cacheprovider", "test_program.py"], plugins=[Settings()])
import config, components
assert config.__file__.startswith(program) and components.__file__.startswith(program)
print(json.dumps({"tests": int(status), "modules": sorted({m.split(".")[0] for m in sys.modules}), **settings}))
"""


@pytest.fixture(scope="module")
def foreign_project(tmp_path_factory):
    """The wheel built and installed into a folder of its own, and the Python consumer's tests run on it alone (one
    run for the tests below): (pip's run, the wheel's folder, the consumer's run, what it reported)."""
    tmp_path = tmp_path_factory.mktemp("foreign")
    source, target = tmp_path / "components", tmp_path / "site"
    shutil.copytree(COMPONENTS_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    # one pip run builds the wheel (PEP 517, setuptools) and installs it, as `pip install <repo>/components` does
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(target), str(source)], capture_output=True, text=True, timeout=120)
    if install.returncode != 0:
        return install, target, None, None
    program = EXAMPLES / "python-consumer"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-c", HARNESS, str(target), str(program), str(PROJECT_DIR)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    result = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else None
    return install, target, run, result


def test_foreign_project_runs_on_the_installed_wheel_alone(foreign_project):
    install, target, run, result = foreign_project
    assert install.returncode == 0, install.stderr
    assert list(target.glob("llmplatform-*.dist-info/RECORD"))  # installed from a wheel
    # the wheel ships the package alone: not the maintenance scripts beside it (components/maintenance)
    shipped = next(target.glob("llmplatform-*.dist-info/RECORD")).read_text()
    assert "maintenance" not in shipped and not (target / "maintenance").exists()
    assert (target / "llmplatform" / "data" / "dashboards" / "gpu.json").is_file()
    assert (target / "llmplatform" / "py.typed").is_file()
    assert run.returncode == 0, run.stderr[-3000:]
    assert result["tests"] == 0, run.stdout[-3000:]  # the consumer's own tests pass with llmplatform.testing
    # the consumer's own `config` and `components` were the ones imported, and nothing of this repository
    assert not {"tools", "offline", "endpoint_tools"} & set(result["modules"])


def test_the_python_consumers_readme_runs_its_tests_on_its_own_pytest_settings(foreign_project):
    """examples/python-consumer/README.md runs `python -m pytest -q test_program.py` in the example's folder of a
    clone, in a virtualenv holding the package and pytest alone: pytest there must read the example's own settings,
    not the repository's pytest.ini above it, whose `-p xdist -p hypothesispytest` stop a run without those plugins
    ("Error importing plugin xdist"). The foreign project's run above is that command, in that folder."""
    readme = (EXAMPLES / "python-consumer" / "README.md").read_text()
    assert re.search(r"^cd examples/python-consumer\n.*python -m pytest -q test_program\.py$", readme, re.M)
    install, _, run, result = foreign_project
    assert run is not None, f"the wheel did not install: {install.stderr[-2000:]}"
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert result["rootdir"] == str(EXAMPLES / "python-consumer"), result["rootdir"]
    assert result["inifile"] == str(EXAMPLES / "python-consumer" / "pytest.ini"), result["inifile"]
    assert result["collected"] >= 1 and result["tests"] == 0, run.stdout[-500:]


def test_install_instructions_name_the_packages_version():
    """README and the Python consumer tell strangers to install the version the package declares."""
    tag = f"@v{llmplatform.__version__}"
    for path in (PROJECT_DIR / "README.md", EXAMPLES / "python-consumer" / "requirements.txt"):
        pins = re.findall(r"@v\d+\.\d+\.\d+", path.read_text())
        assert pins and set(pins) == {tag}, f"{path.name}: {sorted(set(pins))} but the package is {tag}"
        # the release tags the text names in prose too ("a pushed tag `v0.7.0`")
        tags = set(re.findall(r"\bv\d+\.\d+\.\d+\b", path.read_text()))
        assert tags == {tag[1:]}, f"{path.name}: {sorted(tags)} but the package is {tag[1:]}"
        # a release pin needs the repository's URL and a pushed tag: said as a placeholder to fill, never as a
        # look-alike URL (OWNER/REPO) a stranger copies and sees fail
        assert "OWNER/REPO" not in path.read_text() and "<owner>/<repo>" in path.read_text(), path.name
    readme = (PROJECT_DIR / "README.md").read_text()
    # what works from a clone, copyable: the package folder, or a commit of the clone; and the provider likewise
    assert "pip install ./components" in readme and "pulumi package add ./components" in readme
    assert 'pip install "git+file://$PWD@$(git rev-parse HEAD)#subdirectory=components"' in readme
    assert f"## {llmplatform.__version__}" in (PROJECT_DIR / "CHANGELOG.md").read_text()


def test_the_readmes_way_to_a_release_without_its_tag_finds_the_tagged_commit():
    """README's `git log -S` for a copy without the tags names, for every release the CHANGELOG lists from the first
    tagged one (0.18.0) on, the commit that made it: its components/pyproject.toml has the version and its parent's
    another (`-S` also matches the next release's commit, which removes it). Where this copy has the release tags,
    each names that same commit."""
    command = re.findall(r"`(git log [^`]*components/pyproject\.toml[^`]*)`", (PROJECT_DIR / "README.md").read_text())
    assert len(command) == 1 and llmplatform.__version__ in command[0]
    git = lambda line: subprocess.run(line, shell=True, cwd=PROJECT_DIR, capture_output=True, text=True,
                                      check=True).stdout.split()
    declared = lambda commit: re.findall(r'^version = "([^"]+)"', subprocess.run(
        ["git", "show", f"{commit}:components/pyproject.toml"], cwd=PROJECT_DIR, capture_output=True,
        text=True).stdout, re.MULTILINE)
    releases = [version for version in re.findall(r"^## (\d+\.\d+\.\d+)$", (PROJECT_DIR / "CHANGELOG.md").read_text(),
                                                  re.MULTILINE)
                if tuple(map(int, version.split("."))) >= (0, 18, 0)]
    assert llmplatform.__version__ in releases
    found = {version: git(command[0].replace(llmplatform.__version__, version))[:1] for version in releases}
    for version, commits in found.items():
        assert len(commits) == 1, f"{version}: the command names no commit"
        assert declared(commits[0]) == [version] and declared(f"{commits[0]}^") != [version], version
    tags = git("git tag --list 'v*'")
    assert {tag: found.get(tag[1:]) for tag in tags} == {tag: git(f"git rev-parse '{tag}^{{commit}}'") for tag in tags}


def test_every_public_name_is_exported_from_the_top_as_the_real_object():
    """`from llmplatform import X` gives the module's own object for every component, Args, spec, handle and the
    input error, listed in a literal `__all__` (what type checkers read) with no module `__getattr__` to hide a name
    left out; every component class and every TypedDict the package's modules define is among them."""
    import ast
    import importlib
    import inspect
    import pkgutil
    import typing

    import pulumi
    tree = ast.parse((COMPONENTS_DIR / "llmplatform" / "__init__.py").read_text())
    literal = [node.value for node in tree.body if isinstance(node, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)]
    assert len(literal) == 1 and isinstance(literal[0], ast.List)
    assert ast.literal_eval(literal[0]) == llmplatform.__all__
    assert not hasattr(llmplatform, "__getattr__")
    assert len(set(llmplatform.__all__)) == len(llmplatform.__all__)
    defined = {}
    for info in pkgutil.iter_modules(llmplatform.__path__):
        module = importlib.import_module(f"llmplatform.{info.name}")
        defined.update({name: obj for name, obj in vars(module).items() if inspect.isclass(obj)
                        and obj.__module__ == module.__name__ and not name.startswith("_")
                        and (typing.is_typeddict(obj) or issubclass(obj, pulumi.ComponentResource))})
    assert set(defined) - set(llmplatform.__all__) == set(), "not exported from llmplatform"
    assert all(getattr(llmplatform, name) is obj for name, obj in defined.items())
    components = {name for name, obj in defined.items() if issubclass(obj, pulumi.ComponentResource)}
    assert set(llmplatform.COMPONENTS) == components
    assert llmplatform.all_components() == [defined[name] for name in llmplatform.COMPONENTS]
    assert all(f"{name}Args" in llmplatform.__all__ for name in components)
    assert issubclass(llmplatform.ComponentInputError, pulumi.InputPropertiesError)
    assert llmplatform.ComponentInputError is importlib.import_module("llmplatform.checks").ComponentInputError


def test_help_on_a_component_names_its_own_parameters_not_component_resources():
    """`help(LlmdStack)` (and an editor's hover) showed pulumi.ComponentResource's constructor docs, `t`, `props`,
    `remote` and `package_ref`, none of which a component takes: each says its own name, args and opts."""
    import inspect
    import pydoc
    for name in llmplatform.COMPONENTS:
        cls = getattr(llmplatform, name)
        doc = inspect.getdoc(cls.__init__)
        parameters = inspect.signature(cls.__init__).parameters.values()
        assert [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY] == ["self", "name", "args", "opts"]
        assert all(f"{p.name}" in doc for p in parameters if p.kind is p.KEYWORD_ONLY), (name, doc)
        assert f":param {name}Args args:" in doc and ":param str t:" not in doc and "package_ref" not in doc, doc
        assert "providers=[aks.provider]" in doc and "ComponentInputError" in doc
    text = pydoc.render_doc(llmplatform.LlmdStack, renderer=pydoc.plaintext)
    assert ":param LlmdStackArgs args:" in text and "package_ref" not in text.split("Methods inherited")[0]


def test_the_virtualenvs_the_makefile_makes_are_ignored_as_links_too():
    """A worktree that shares the checkout's virtualenvs links them (`ln -s ../main/.venv .venv`); `.venv/` in
    .gitignore matches a directory only (gitignore(5): a trailing slash), so `git add -A` committed the links, and
    merging that commit replaced the checkout's own ignored .venv with a link to itself. Each environment the
    Makefile creates is ignored by its plain name, a directory or a link alike."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    made = re.findall(r"^(?:VENV|SCAN_VENV) := (\S+)$", makefile, re.M)
    ignored = {line.strip().lstrip("/") for line in (PROJECT_DIR / ".gitignore").read_text().splitlines()}
    assert made == [".venv", ".venv-scan"] and set(made) <= ignored
