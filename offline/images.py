"""Every container image a stack's cluster pulls, and how to copy them into a mirror registry.

`make plan` writes `build/<stack>/images.json`: the images of the program's own Kubernetes objects (their
containers and init containers) and, for each Helm release, the images its chart renders under the release's
values (from the chart's data file, components/llmplatform/data/chart_images/, which records the chart's default of
each switch it reads).
Each entry has its upstream `source`, what the cluster `pulls` (the mirror's copy when `cluster.imageRegistry` is
set) and the resources that use it.

`make images STACK=<stack> [REGISTRY=<host>]` prints the `az acr import` command of each image (an Azure Container
Registry copies from the upstream registry itself; nothing passes through this machine). The registry is the
stack's `cluster.imageRegistry` unless REGISTRY names one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

import llmplatform
from llmplatform.images import (ChartImage, acr_name, chart_images, mirrored, registry_path, registry_problem,
                                rendered)
from llmplatform.pd_specs import NIC_CLUSTER_POLICY_IMAGES
from llmplatform.pins import ALL_CHARTS, ALL_IMAGES, parse_image
from llmplatform.testing import Plan

from . import runner
from .pod_specs import pod_spec

# The Ubuntu releases of AKS's node images (GPU pools run Ubuntu): an operator that completes a tag with the node's
# OS pulls one of these, by the cluster's Kubernetes version.
NODE_OS = ("ubuntu22.04", "ubuntu24.04")
# Tags our own custom resources leave an operator to complete: the Network Operator pulls the DOCA driver as
# <version>-<os>-<arch> (Mellanox/network-operator v26.4.1, pkg/state/state_ofed.go).
OBJECT_RUNTIME_TAGS = {"nvidia/mellanox/doca-driver": "{tag}-{os}-amd64"}
def object_images(obj: dict[str, Any]) -> Iterator[str]:
    """The images of a Kubernetes object's containers and init containers, and those a custom resource names in
    NVIDIA's operators' form (`repository` + `image` + `version`: NicClusterPolicy, ClusterPolicy)."""
    spec = pod_spec(obj)
    for key in ("initContainers", "containers"):
        for container in (spec or {}).get(key) or []:
            if isinstance(container, dict) and isinstance(container.get("image"), str):
                yield container["image"]
    if spec is None:
        yield from _operator_images(obj.get("spec"))


def _operator_images(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if all(isinstance(node.get(k), str) for k in ("repository", "image", "version")):
            yield f"{node['repository']}/{node['image']}:{node['version']}"
        for value in node.values():
            yield from _operator_images(value)
    elif isinstance(node, list):
        for value in node:
            yield from _operator_images(value)


def release_images(release_inputs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(upstream image, what the cluster pulls) for each image the release's chart renders under its values."""
    for image, pulled in _release_images(release_inputs):
        yield image.image, pulled


def _release_images(release_inputs: dict[str, Any]) -> Iterator[tuple[ChartImage, str]]:
    chart_name = release_inputs["chart"].rsplit("/", 1)[-1]
    chart = next(c for c in ALL_CHARTS if c.chart == chart_name)
    values = release_inputs.get("values") or {}
    data = chart_images(chart.upstream_dir)
    mirror = _release_mirror(data.mirror_values, values)
    for image in data.images:
        if rendered(image, values, data.when_defaults):
            yield image, mirrored(image.image, mirror)


def _release_mirror(mirror_values: dict[str, Any], values: dict[str, Any]) -> Optional[str]:
    """The mirror a release's values point at: its mirror_values found in them with the placeholder filled."""
    for key, template in mirror_values.items():
        given = values.get(key)
        if isinstance(template, dict):
            found = _release_mirror(template, given) if isinstance(given, dict) else None
            if found:
                return found
        elif isinstance(template, str) and "{registry}" in template and isinstance(given, str):
            head, _, tail = template.partition("{registry}")
            if given.startswith(head) and given.endswith(tail) and len(given) > len(head) + len(tail):
                return given[len(head):len(given) - len(tail)]
    return None


def stack_images(plan: Plan, registry: Optional[str]) -> list[dict[str, Any]]:
    """Every image the plan's cluster pulls: source (None when it is none of the package's pins or charts' images:
    a component user's own image, already on the mirror), what is pulled, and the resources using it, sorted."""
    sources = {mirrored(p, registry): p for p in (*ALL_IMAGES, *NIC_CLUSTER_POLICY_IMAGES)}
    for chart in ALL_CHARTS:
        for chart_image in chart_images(chart.upstream_dir).images:
            sources.setdefault(mirrored(chart_image.image, registry), chart_image.image)
    found: dict[tuple[str, str], set[str]] = {}
    runtime: dict[str, str] = {}
    for reg in plan.kubernetes_objects():
        for image in object_images(reg.inputs):
            source = sources.get(image, None if registry and image.startswith(f"{registry}/") else image)
            found.setdefault((source or "", image), set()).add(reg.name)
            if source:
                repository = parse_image(source).repository
                runtime.update({source: t for r, t in OBJECT_RUNTIME_TAGS.items() if repository.endswith(r)})
    for reg in plan.helm_releases():
        for chart_image, pulled in _release_images(reg.inputs):
            found.setdefault((chart_image.image, pulled), set()).add(reg.name)
            if chart_image.runtime_tag:
                runtime[chart_image.image] = chart_image.runtime_tag
    return [{"source": source or None, "pulls": pulled, "usedBy": sorted(users),
             **({"runtimeTags": runtime_tags(source, runtime[source])} if source in runtime else {})}
            for (source, pulled), users in sorted(found.items())]


def runtime_tags(image: str, pattern: str) -> list[str]:
    """The tags an operator pulls for `image` whose tag it completes (`{tag}`, `{os}`), one per node OS."""
    tag = parse_image(image).tag
    return [pattern.format(tag=tag, os=os) for os in NODE_OS]


def inputs_digest(stack_file: Path) -> str:
    """A digest of what the list is made from beside the program: the stack file and the package's pins and chart
    image data, by content (a reinstall of the package rewrites them unchanged)."""
    data = Path(llmplatform.__file__).parent / "data"
    digest = hashlib.sha256()
    for path in [stack_file, data / "pins.json", *sorted((data / "chart_images").glob("*.json"))]:
        digest.update(path.name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    return digest.hexdigest()


def document(plan: Plan, registry: Optional[str], stack_file: Optional[Path] = None) -> dict[str, Any]:
    """images.json; with the stack file the plan read, the digest `make images` compares to call a list stale."""
    return {"registry": registry, "images": stack_images(plan, registry),
            **({"inputs": inputs_digest(stack_file)} if stack_file is not None else {})}


def copy_commands(images: list[dict[str, Any]], registry: str) -> list[str]:
    """One copy per image the registry needs, by digest when the pin has one (the mirror then holds exactly what
    the cluster asks for): `az acr import` into an Azure Container Registry (ACR pulls from the source registry
    itself), else `crane copy`. An image whose upstream is unknown gets a comment."""
    lines = []
    completed = {entry["source"]: entry.get("runtimeTags") for entry in images if entry["source"]}
    acr, path = acr_name(registry), registry_path(registry)
    for source in sorted(completed):
        ref = parse_image(source)
        for tag in completed[source] or [ref.tag]:  # an operator pulls the completed tags, not the bare one
            origin = f"{ref.registry}/{ref.repository}" + (f"@{ref.digest}" if ref.digest else f":{tag}")
            target = f"{path}/{ref.repository}:{tag}" if path else f"{ref.repository}:{tag}"
            if acr:
                lines.append(f"az acr import --name {acr} --source {origin} --image {target}")
            else:
                lines.append(f"crane copy {origin} {registry.split('/', 1)[0]}/{target}")
    for entry in images:
        if not entry["source"]:
            lines.append(f"# {entry['pulls']} ({', '.join(entry['usedBy'])}): not one of the package's images; "
                         f"copy it yourself")
    return lines


def _read(path: Path) -> Optional[dict[str, Any]]:
    """images.json as `make plan` writes it, else None (missing, not JSON, or another shape)."""
    try:
        recorded = json.loads(path.read_text())
        entries = recorded["images"]
        for entry in entries:
            if entry["source"] is not None:
                parse_image(entry["source"])
            str(entry["pulls"]) + ", ".join(entry["usedBy"])
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None
    return recorded if isinstance(recorded.get("registry"), (str, type(None))) else None


def _stale(recorded: dict[str, Any], stack_file: Path) -> bool:
    """Whether the stack file or the package's pins changed since images.json was written (a list without the
    digest is from an older `make plan`)."""
    return recorded.get("inputs") != inputs_digest(stack_file)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.images", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack whose plan (build/<stack>/images.json) to read")
    parser.add_argument("--registry", default="", help="mirror registry host (default: the stack's "
                                                       "cluster.imageRegistry)")
    parser.add_argument("--out", default=str(runner.PROJECT_DIR / "build"),
                        help="where `make plan` wrote the plan (default: build/)")
    args = parser.parse_args(argv)
    try:  # a plan's folder is named after its stack (a what-if's too: <stack>.what-if)
        runner.check_stack_name(args.stack)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    path = Path(args.out) / args.stack / "images.json"
    what_if = args.stack.endswith(runner.WHAT_IF)
    # a what-if's plan comes from `python -m offline.plan --set/--stack-file`, not from a stack of that name
    again = (f"the what-if plan (`.venv/bin/python -m offline.plan --stack {args.stack.removesuffix(runner.WHAT_IF)} "
             f"--set ...` or `--stack-file ...`)" if what_if else f"`make plan STACK={args.stack}`")
    recorded = _read(path)
    if recorded is None:
        if not what_if:  # no plan to run either: a stack with no stack file is named as `make plan` names it
            try:
                runner.find_stack_file(args.stack)
            except FileNotFoundError as error:
                print(error, file=sys.stderr)
                return 2
        print(f"no readable {path}: run {again} first", file=sys.stderr)
        return 2
    planned = recorded.get("registry") or ""
    registry = args.registry or planned
    problem = registry_problem(registry) if registry else None
    if problem:
        print(f"REGISTRY {registry!r} is not a registry host: {problem}", file=sys.stderr)
        return 2
    if not recorded["images"]:
        print(f"# stack {args.stack} runs nothing in a cluster: no images to copy")
        return 0
    if not registry:
        print(f"which registry? stack {args.stack} pulls from the upstream registries: name one with "
              f"REGISTRY=<host> (e.g. myregistry.azurecr.io), or set cluster.imageRegistry in its stack file and "
              f"run {again} again", file=sys.stderr)
        return 2
    if registry != planned:
        print(f"note: the stack's cluster pulls from {planned or 'the upstream registries'}"
              f"{'' if planned else ' (set cluster.imageRegistry to use the mirror)'}; these commands fill "
              f"{registry}", file=sys.stderr)
    stack_file = runner.PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    if not what_if and _stale(recorded, stack_file):  # a what-if's config is its --set, not a file to compare
        print(f"note: {stack_file.name} or the package's pins changed after {path} was written: run "
              f"{again} again for a current list", file=sys.stderr)
    lines = copy_commands(recorded["images"], registry)
    copies = sum(1 for line in lines if not line.startswith("#"))
    print(f"# {copies} copies of the {len(recorded['images'])} images stack {args.stack} pulls, into {registry} "
          f"(an operator's image is copied under each tag it completes)"
          + ("; Docker Hub sources: add --username/--password of a Docker Hub account, past its anonymous pull "
             "limit" if acr_name(registry) else ""))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    from .quiet_stdout import QuietWhenClosed
    sys.stdout = QuietWhenClosed(sys.stdout)  # `make images | head`: the rest goes nowhere, never a traceback
    sys.exit(main())
