"""Every environment variable and command-line flag a container we define ourselves sets (Deployments, Jobs,
DaemonSets, init containers, and the names our `sh -c` start scripts export to the software) is one the pinned
software reads: a misspelt or removed setting does nothing on a real cluster, and no schema catches it.

The facts are vendored under tests/upstream/settings/<software>.txt: one name per line (`NAME` an environment
variable, `--flag` / `-flag` a command-line flag), with a header naming the image it was read for and the repository,
tag, commit and files read (tests/upstream/SOURCES.md lists them, docs/decisions.md says how they were read).
Chart-rendered containers are out of scope: their values are checked against the charts (tests/program/test_upstream.py).
A variable our own script reads (`$NAME`, e.g. the preload Job's MODELS) is the script's, checked against its text.
"""
from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pytest

from llmplatform.input_rules import MANAGED_OLLAMA_ENV, MANAGED_WEBUI_ENV
from llmplatform.llmd_specs import MANAGED_VLLM_ENV, MANAGED_VLLM_FLAGS
from llmplatform.pins import (ALL_IMAGES, LLMD_EPP_IMAGE, LLMD_PD_SIDECAR_IMAGE, NRI_ULIMIT_ADJUSTER_IMAGE,
                              OLLAMA_IMAGE, OPEN_WEBUI_IMAGE, ROUTER_IMAGE, VALKEY_IMAGE, VLLM_IMAGE, parse_image)
from offline.plan import manifests

from tests.conftest import PROJECT_DIR, VARIANTS, upstream_dir, variant

# The pinned image -> the settings lists of the software in it. () : we set nothing on it and vendored no list (a
# setting appearing there fails until one is). The llm-d EPP is only ever rendered by its chart: its list is checked
# against the args the chart renders from our values (tests/components/test_llmd_upstream.py).
SOFTWARE: dict[str, tuple[str, ...]] = {
    OLLAMA_IMAGE: ("ollama",),
    OPEN_WEBUI_IMAGE: ("open-webui",),
    VLLM_IMAGE: ("vllm", "huggingface_hub"),  # vLLM downloads models through huggingface_hub (HF_HOME, HF_TOKEN_PATH)
    VALKEY_IMAGE: ("valkey",),
    LLMD_PD_SIDECAR_IMAGE: ("llm-d-disagg-sidecar",),
    LLMD_EPP_IMAGE: ("llm-d-epp",),
    NRI_ULIMIT_ADJUSTER_IMAGE: ("nri-ulimit-adjuster",),
    ROUTER_IMAGE: (),  # nginx: configured by its mounted nginx.conf, no env or args
}
HEADER_KEYS = ("software", "image", "repository", "tag", "commit", "files", "read")
SHELLS = {"sh", "bash", "ash"}
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class SettingsList:
    name: str
    header: dict[str, str]
    names: frozenset[str]

    @property
    def path(self) -> str:
        return f"tests/upstream/settings/{self.name}.txt"

    def reread(self) -> str:
        h = self.header
        return f"re-read {h['repository']} at {h['tag']} ({h['commit']}): {h['files']}; then update {self.path}"


@functools.lru_cache(maxsize=None)
def settings_list(name: str) -> SettingsList:
    header: dict[str, str] = {}
    names: list[str] = []
    for line in (upstream_dir() / "settings" / f"{name}.txt").read_text().splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(": ")
            header[key] = value
        elif line.strip():
            names.append(line.strip())
    assert names == sorted(set(names)), f"{name}.txt: names are sorted and unique"
    return SettingsList(name, header, frozenset(names))


def software_of(image: str) -> Optional[tuple[str, ...]]:
    """The lists for a container's image: the pinned image of the same repository (a mirror may prefix it)."""
    repository = parse_image(image).repository
    for pinned, lists in SOFTWARE.items():
        own = parse_image(pinned).repository
        if repository == own or repository.endswith("/" + own):
            return lists
    return None


def pod_specs(node: Any) -> Iterator[dict[str, Any]]:
    """Every pod spec in an object (a Deployment's template, a CronJob's job template, a custom resource's)."""
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list):
            yield node
        for value in node.values():
            yield from pod_specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from pod_specs(value)


def containers(plan) -> Iterator[tuple[str, dict[str, Any]]]:
    """(object, container) for every container and init container of every object the program defines itself."""
    for _, obj in manifests(plan):
        meta = obj.get("metadata") or {}
        where = f"{obj.get('kind')}/{meta.get('namespace', '-')}/{meta.get('name')}"
        for spec in pod_specs(obj.get("spec")):
            for kind in ("initContainers", "containers"):
                for container in spec.get(kind) or []:
                    yield where, container


def shell_script(container: dict[str, Any]) -> Optional[str]:
    """The script of a `sh -c '<script>'` container (command, or command and args together), else None."""
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    if len(words) >= 3 and posixpath.basename(str(words[0])) in SHELLS and words[1] == "-c":
        return str(words[2])
    return None


def flags(container: dict[str, Any]) -> list[str]:
    """The flags a container passes its program: `--name value`, `--name=value`, `-name` (not negative numbers);
    the program (command[0], or an args[0] word) and positional words are not flags."""
    words = [*(container.get("command") or [])[1:], *(container.get("args") or [])]
    return [w.split("=", 1)[0] for w in map(str, words) if w.startswith("-") and not re.fullmatch(r"-[0-9.]+", w)]


def problems(container: dict[str, Any]) -> list[str]:
    """What the container sets that its software does not read, one sentence each (empty: every setting is read)."""
    image = str(container.get("image"))
    lists = software_of(image)
    if lists is None:
        return [f"no settings list for image {image}: vendor tests/upstream/settings/<software>.txt from its "
                "pinned source and map the image in SOFTWARE"]
    known = frozenset().union(*(settings_list(name).names for name in lists))
    where = " or ".join(settings_list(name).path for name in lists) or "no vendored list"
    how = "; ".join(settings_list(name).reread() for name in lists) or \
        f"vendor a list for {parse_image(image).repository} under tests/upstream/settings/ and name it in SOFTWARE"
    script = shell_script(container)
    script_reads = set(re.findall(r"\$\{?(" + NAME + ")", script)) if script else set()
    found = []
    if container.get("envFrom"):
        found.append("envFrom hides the names it sets from this check: set each as env")
    for entry in container.get("env") or []:
        name = entry["name"]
        if name not in known and name not in script_reads:
            found.append(f"env {name} is read by neither {where} nor the container's own script ({how})")
    if script is not None:  # the script's exports are handed to the software it starts
        for name in re.findall(r"\bexport\s+(" + NAME + ")", script):
            if name not in known and name not in script_reads:
                found.append(f"the start script exports {name}, read by none of {where} ({how})")
    else:
        for flag in flags(container):
            if flag not in known:
                found.append(f"flag {flag} is not one {where} defines ({how})")
    return found


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_setting_of_every_container_we_define_is_read_by_its_software(name):
    seen = 0
    failures = []
    for where, container in containers(variant(name)):
        seen += 1
        failures += [f"{name}: {where} container {container.get('name')}: {p}" for p in problems(container)]
    assert seen, "the program defines containers"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted({n for lists in SOFTWARE.values() for n in lists}))
def test_each_settings_list_is_complete_and_for_the_pinned_image(name):
    found = settings_list(name)
    assert found.names, f"{found.path} lists no names"
    missing = [key for key in HEADER_KEYS if not found.header.get(key)]
    assert not missing, f"{found.path}: header lacks {missing}"
    assert found.header["image"] in ALL_IMAGES, (
        f"{found.path} was read for {found.header['image']}, which is no longer pinned "
        f"(components/llmplatform/data/pins.json): {found.reread()}")
    assert name in SOFTWARE[found.header["image"]], f"{found.path} is for an image SOFTWARE does not map to it"
    assert all(re.fullmatch(r"-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*|" + NAME, n) for n in found.names), found.path


def test_the_settings_the_components_manage_are_read_by_their_software():
    """The names each component sets from its inputs, including those on paths no variant plans (HF_TOKEN_PATH with a
    Hugging Face token)."""
    def known(image: str) -> frozenset[str]:
        return frozenset().union(*(settings_list(name).names for name in SOFTWARE[image]))
    for image, managed in ((OLLAMA_IMAGE, MANAGED_OLLAMA_ENV), (OPEN_WEBUI_IMAGE, MANAGED_WEBUI_ENV),
                           (VLLM_IMAGE, MANAGED_VLLM_ENV + MANAGED_VLLM_FLAGS)):
        assert not set(managed) - known(image), f"{image}: {sorted(set(managed) - known(image))} are not read"


def test_every_list_is_sourced_in_SOURCES_md():
    sources = (upstream_dir() / "SOURCES.md").read_text()
    for path in sorted((upstream_dir() / "settings").glob("*.txt")):
        rel = path.relative_to(upstream_dir()).as_posix()
        assert f"`{rel}`" in sources and f"  {rel}\n" in sources, f"{rel}: no row or checksum in tests/upstream/SOURCES.md"
    assert (PROJECT_DIR / "docs" / "decisions.md").read_text().count(
        "### Container settings are the pinned software's own (offline check)") == 1


def test_a_misspelt_or_unknown_setting_is_refused():
    """The same function the plans go through refuses a planted misspelling, in each place a setting can be."""
    ollama = {"name": "ollama", "image": OLLAMA_IMAGE, "args": ["serve"],
              "env": [{"name": "OLLAMA_KEEP_ALIVE", "value": "30m"}, {"name": "OLLAMA_KEEPALIVE", "value": "30m"}]}
    found = problems(ollama)
    assert len(found) == 1 and found[0].startswith("env OLLAMA_KEEPALIVE is read by neither"), found
    assert "tests/upstream/settings/ollama.txt" in found[0] and "envconfig/config.go" in found[0], "the file to re-read"
    mirrored = {**ollama, "image": "mirror.example.io/team/" + OLLAMA_IMAGE.split("/", 1)[1]}
    assert len(problems(mirrored)) == 1, "a mirrored image is the same software"
    vllm = {"name": "vllm", "image": VLLM_IMAGE, "command": ["vllm"],
            "args": ["serve", "m", "--max-model-len", "4096", "--max-model-length=4096", "--seed", "-1"],
            "env": [{"name": "HF_HOME", "value": "/c"}, {"name": "VLLM_NO_USAGE_STAT", "value": "1"}]}
    assert [p.split(" is ")[0] for p in problems(vllm)] == ["env VLLM_NO_USAGE_STAT", "flag --max-model-length"]
    sidecar = {"name": "s", "image": LLMD_PD_SIDECAR_IMAGE, "args": ["--port=8000", "--secure-proxy=false",
                                                                       "--secure-serving=false"]}
    assert [p.split(" is ")[0] for p in problems(sidecar)] == ["flag --secure-serving"]
    valkey = {"name": "v", "image": VALKEY_IMAGE, "args": ["valkey-server", "--save", "", "--append-only", "no"]}
    assert [p.split(" is ")[0] for p in problems(valkey)] == ["flag --append-only"]
    webui = {"name": "w", "image": OPEN_WEBUI_IMAGE, "env": [{"name": "OWN", "value": "1"}],
             "command": ["/bin/sh", "-c", 'echo "$OWN"\nDATABASE_URI="$(cat /s/db)"; export DATABASE_URI\n'
                                          'DATABASE_URL="$(cat /s/db)"; export DATABASE_URL\nexec bash start.sh\n']}
    assert [p.split(",")[0] for p in problems(webui)] == ["the start script exports DATABASE_URI"]
    router = {"name": "nginx", "image": ROUTER_IMAGE, "env": [{"name": "NGINX_ENTRYPOINT_QUIET_LOGS", "value": "1"}]}
    assert len(problems(router)) == 1 and "vendor a list" in problems(router)[0]
    assert "no settings list" in problems({"name": "x", "image": "docker.io/library/busybox:1.37"})[0]
    assert "envFrom" in problems({**ollama, "env": [], "envFrom": [{"configMapRef": {"name": "c"}}]})[0]
