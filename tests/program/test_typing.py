"""The package as a consumer's type checker sees it: mypy (with the repository's mypy.ini) over the package, examples/
and the README's Python as written, all clean; and a program passing wrong handles and None for a required input,
which mypy must refuse at exactly those lines, and None for optional ones, which it must take. Its cache (mypy.ini:
build/mypy-cache) makes later runs cheap, so the generated files keep one path (build/typing/): mypy reuses a cached
module's errors under the path it had. A second run, on the same cache, checks the repository's own code (mypy.ini's
[program] list: the program, config, offline, the policy pack, the maintenance scripts and the endpoint tools)."""
import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

README = PROJECT_DIR / "README.md"
SECTION = "## Use the components in your project"

# Each wrong line ends with the mypy error code it must get; every other line must pass. An optional input given as
# None is one not given (check_shape), so its type admits None: a foreign program passes what its config gives
# (`cfg.get(...)`, None when unset), in an input and in a spec's field; a required one given None stays refused.
WRONG_HANDLES = '''
import pulumi
from llmplatform import (AksCluster, GatewayAccess, GpuNodePool, InferenceStack, KeyVault, ModelStore, ModelVolume,
                         NetworkSpec, NodePoolSpec, WorkloadIdentity)

cfg = pulumi.Config()

network: NetworkSpec = {"vnet_cidr": "10.60.0.0/16", "node_subnet_cidr": "10.60.0.0/20",
                        "endpoints_subnet_cidr": "10.60.16.0/24", "postgres_subnet_cidr": "10.60.17.0/24",
                        "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"}
pool: NodePoolSpec = {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2,
                      "max_pods": cfg.get_int("maxPods")}
aks = AksCluster("aks", {"cluster_name": "aks-x", "resource_group_name": "rg-x", "location": "westeurope",
                         "network": network, "system_pool": pool, "workload_pool": pool})
in_cluster = pulumi.ResourceOptions(providers=[aks.provider])
store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stxmodels", "namespace": "llm"}, in_cluster)
vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-x-llm"})
gpu = GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"}, in_cluster)
volume: ModelVolume = store.volume
GpuNodePool("a", {"cluster": aks, "vm_size": "Standard_NC4as_T4_v3"}, in_cluster)  # typeddict-item
GpuNodePool("b", {"cluster": store.volume, "vm_size": "Standard_NC4as_T4_v3"}, in_cluster)  # typeddict-item
GpuNodePool("c", {"cluster": "aks-x", "vm_size": "Standard_NC4as_T4_v3"}, in_cluster)  # typeddict-item
GpuNodePool("d", {"cluster": aks.cluster, "vmSize": "Standard_NC4as_T4_v3"}, in_cluster)  # typeddict-unknown-key
InferenceStack("e", {"cluster": aks.cluster, "key_vault": vault, "model_volume": volume}, in_cluster)  # typeddict-item
InferenceStack("f", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": aks.cluster,  # typeddict-item
                     "gpu": gpu.scheduling}, in_cluster)
InferenceStack("g", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": volume,
                     "gpu": gpu}, in_cluster)  # typeddict-item
GatewayAccess("gw", {"cluster": aks.cluster, "tls_email": cfg.get("email"), "tls_hostname": None}, in_cluster)
GpuNodePool("h", {"cluster": aks.cluster, "vm_size": cfg.get("gpuVmSize")}, in_cluster)  # typeddict-item
# WorkloadIdentity.once_resolved as its docs call it, with a lambda: `value: Input[T]` with `make: Callable[[T], ...]`
# was solved as Never ("incompatible type Output[str]; expected Never | Awaitable[Never] | Output[Never]")
identity = WorkloadIdentity("wi", {"cluster": aks.cluster, "identity_name": "id-x", "namespace": "llm",
                                   "service_account_name": "app"}, in_cluster)
identity.once_resolved(vault.vault_name, lambda name: None)
identity.once_resolved(vault.vault_name, lambda name: [identity])
'''
# The kit's `run` as a stranger's type checker reads it (tests/components/test_stranger6_consumer.py's stranger):
# `run(lambda: runpy.run_path(...))` (run_path returns the module's globals) or `run(lambda: Component(...))` were
# refused (`expected "Callable[[], None]"`), though the SDK drops what a program returns.
CONSUMER = '''import runpy
from llmplatform import AppNamespace
from llmplatform.testing import run

run(lambda: AppNamespace("app", {"namespace": "llm"}))
run(lambda: runpy.run_path("__main__.py", run_name="__main__"))
'''
ERROR = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$", re.M)


def mypy_ini_files(section: str) -> list[str]:
    """A `files` list of mypy.ini: [mypy] (mypy's own) or [program] (the second run's)."""
    ini = configparser.ConfigParser()
    ini.read(PROJECT_DIR / "mypy.ini")
    return [f.strip() for f in ini[section]["files"].split(",")]


def readme_python() -> list[str]:
    """The Python blocks of the README's section on using the components, exactly as written."""
    section = README.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```$", section, re.S | re.M)


@pytest.fixture(scope="module")
def mypy():
    """mypy with mypy.ini (the package and examples/), the README's blocks and the wrong program added."""
    tmp = PROJECT_DIR / "build" / "typing"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tmp = tmp.relative_to(PROJECT_DIR)  # as mypy prints paths under its working directory
    readme = []
    for i, block in enumerate(readme_python()):
        readme.append(tmp / f"readme_{i}.py")
        (PROJECT_DIR / readme[-1]).write_text(block)
    # the whole programs of the components' pages (own-cluster.md's program and its test; the other pages show
    # excerpts), as a consumer copies them. Here the Azure and Kubernetes SDKs' classes are Any (mypy.ini), so the
    # page's old `else None` and `Output.secret(...)` straight into k8s.Provider passed; a consumer's plain mypy,
    # which follows them, gave five errors (seen by hand: mypy 1.x over the page in a fresh venv, 85 s cold)
    pages = []
    page = PROJECT_DIR / "docs" / "components" / "own-cluster.md"
    for i, block in enumerate(re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.S | re.M)):
        pages.append(tmp / f"own_cluster_{i}.py")
        (PROJECT_DIR / pages[-1]).write_text(block)
    wrong = tmp / "wrong_handles.py"
    (PROJECT_DIR / wrong).write_text(WRONG_HANDLES)
    consumer = tmp / "kit_consumer.py"
    (PROJECT_DIR / consumer).write_text(CONSUMER)
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "components/llmplatform",
                          "examples", *map(str, readme), *map(str, pages), str(wrong), str(consumer)],
                         cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert "error:" in run.stdout or run.returncode == 0, run.stdout + run.stderr  # mypy ran (not a crash)
    return {"readme": readme, "pages": pages, "wrong": wrong, "consumer": consumer,
            "errors": [m.groupdict() for m in ERROR.finditer(run.stdout)],
            "stdout": run.stdout + run.stderr}


@pytest.fixture(scope="module")
def mypy_program(mypy):
    """mypy over the [program] list, after the package's run: on its cache, only this code and what it alone imports
    (requests, pulumi_policy, ...) are new."""
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--explicit-package-bases",
                          *mypy_ini_files("program")], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert "error:" in run.stdout or run.returncode == 0, run.stdout + run.stderr  # mypy ran (not a crash)
    return run


def test_the_repositorys_own_code_is_clean(mypy_program):
    assert mypy_program.returncode == 0 and "Success: no issues found" in mypy_program.stdout, mypy_program.stdout


def test_every_module_outside_the_tests_is_in_a_mypy_run():
    """A new module or directory is checked unless it is a test or one of the two entry points that are `__main__`
    beside the program's own (the provider plugin's and the policy pack's: one mypy run holds one `__main__`)."""
    runs = [Path(f) for f in mypy_ini_files("mypy") + mypy_ini_files("program")]
    tops = [p for p in PROJECT_DIR.iterdir() if not p.name.startswith(".") and p.name not in ("tests", "build")]
    modules = [p.relative_to(PROJECT_DIR) for top in tops for p in ([top] if top.is_file() else top.rglob("*.py"))
               if p.suffix == ".py" and "build" not in p.relative_to(PROJECT_DIR).parts]
    unchecked = sorted(str(m) for m in modules if not any(m == run or run in m.parents for run in runs))
    assert unchecked == ["components/__main__.py", "policy/__main__.py"]


def test_readme_shows_a_program_and_a_test_with_the_testing_kit():
    blocks = readme_python()
    assert len(blocks) == 2
    assert "from llmplatform import AksCluster" in blocks[0]
    assert "from llmplatform.testing import run" in blocks[1] and "def test_" in blocks[1]


def test_package_examples_readme_and_a_kit_consumer_are_clean(mypy):
    others = [e for e in mypy["errors"] if e["path"] != str(mypy["wrong"])]
    assert others == [], mypy["stdout"]
    assert mypy["readme"], "the README's Python was checked"
    assert [p.name for p in mypy["pages"]] == ["own_cluster_0.py", "own_cluster_1.py"], mypy["pages"]
    assert str(mypy["consumer"]) not in mypy["stdout"], mypy["stdout"]  # no line of mypy names it


def test_wrong_handles_are_type_errors_at_their_lines(mypy):
    expected = {(i, line.rsplit("# ", 1)[1]) for i, line in enumerate(WRONG_HANDLES.splitlines(), 1)
                if re.search(r"# typeddict-[a-z-]+$", line)}
    found = {(int(e["line"]), e["code"]) for e in mypy["errors"] if e["path"] == str(mypy["wrong"])}
    # at least each marked line with its code, and nothing on an unmarked line (a correct handle passes)
    assert expected <= found and {line for line, _ in found} == {line for line, _ in expected}, mypy["stdout"]
    messages = "\n".join(e["message"] for e in mypy["errors"])
    # the component passed for its handle is named as such, with the handle type the input takes
    assert re.search(r'"AksCluster", TypedDict item "cluster" has type .*ClusterHandle', messages), messages
    assert re.search(r'"ModelVolume", TypedDict item "cluster"', messages), messages
    assert re.search(r'"KeyVault", TypedDict item "key_vault" has type .*VaultHandle', messages), messages
    assert re.search(r'Extra key "vmSize" for TypedDict "GpuNodePoolArgs"', messages), messages
    # a required input given None: refused as None where a str is wanted (an optional one's None passed above)
    assert re.search(r'"str \| None", TypedDict item "vm_size" has type "str"', messages), messages
