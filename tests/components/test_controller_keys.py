"""Every annotation, label, node-label and taint key with a domain prefix (`x.y/z`) the program sets for a controller
to read is one the pinned controller reads. Strict schemas and CRDs accept any such key, and a misspelt or unsupported
one silently does nothing on a real cluster; this closes that gap.

Where keys are set, in every planned variant (tests/conftest.py VARIANTS, the global stack and the regional stacks it
reads): the objects' `metadata.annotations`/`labels`, their pod templates', a Gateway's `spec.infrastructure`
annotations/labels (Istio copies them to the ServiceAccount, Deployment, pods, Service, HPA and PDB it generates:
istio/istio 1.30.3 `manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml`), the AgentPools' node
labels and taints; and where keys are *referred to*, which need someone to set them: nodeSelector and node affinity
keys and topologyKey (a node label), toleration keys (a taint), label selectors (a label on the selected kind), in
the objects and in the Helm values we pass.

Each key is accepted when
- a reader's vendored list (tests/upstream/controller-keys/<reader>.txt: the pinned controller's own constants,
  with the kinds it reads them on) has it, for what we do with it (annotation, label or taint) on the kind we put it
  on; a key under a domain a reader list covers is refused if that list lacks it;
- or it is ours and the same plan proves it read: a label some selector of the plan selects (same key, kind and a
  matching value), a node label some nodeSelector/affinity selects, a taint some toleration tolerates, a selector,
  nodeSelector or toleration that matches what the plan sets, or an annotation one of our tools reads (OUR_READERS);
- or it is in NO_READER, the short list of keys nothing needs to read, each with its reason.
The values a reader parses strictly are checked too (VALUE_RULES, ulimit_problem), each with its source.
"""
from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import pytest
import yaml

from offline import deploy_model, runner

from tests.conftest import PLANNED, UPSTREAM, plan_for, planned, variant

KEYS = UPSTREAM / "controller-keys"
ANY = frozenset({"*any*"})  # a Helm value's target: the chart decides the kind
# what Istio generates from a Gateway and copies spec.infrastructure annotations and labels onto (kube-gateway.yaml)
GATEWAY_GENERATED = frozenset({"ServiceAccount", "Deployment", "Pod", "Service", "HorizontalPodAutoscaler",
                               "PodDisruptionBudget"})
WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job")
PLACEHOLDERS = {"<name>": r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?", "<N>": r"[0-9]+", "<hex4>": r"[0-9a-f]{4}"}

# Keys nothing needs to read: (pattern, what we do with them, reason).
NO_READER = (
    ("app.kubernetes.io/<name>", {"label", "selector"},
     "Kubernetes' recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels): for "
     "people and tools, no controller acts on them; the charts we install put them on their own pods, where our "
     "selectors find them"),
    ("checkov.io/skip<N>", {"annotation"},
     "the scanner's skip annotations, each checked with its reason by tests/offline/test_scan.py"),
    ("llm-platform/config-hash", {"annotation"},
     "the router's config digest on its pod template: a changed template is what makes the Deployment controller "
     "roll the pods, its whole purpose"),
    ("llm-platform/listed-models", {"annotation"},
     "the store's models on Open-WebUI's pod template (open_webui.py MODELS_ANNOTATION): a changed template rolls the "
     "pods, whose kept model list each fetches anew, its whole purpose"),
    ("llm-platform/identity-client-id", {"annotation"},
     "Open-WebUI's workload identity's client id on its pod template (workload_identity.py CLIENT_ID_ANNOTATION): a "
     "new identity rolls the pods, whose process signs in with the AZURE_CLIENT_ID the webhook set at their creation, "
     "its whole purpose"),
    ("llm-platform/accelerator", {"label"},
     "on every GPU pool's nodes for the device plugin's and DCGM exporter's node selection (gpu_node_pool.py "
     "ACCELERATOR_LABEL; tests/components/test_gpu_scheduling.py proves they land on every GPU node); with the GPU "
     "Operator neither is installed, its operands select on NFD's labels, and nothing reads it"),
    ("llm-platform/gpu-model", {"label"},
     "a node label for people (`kubectl get nodes -L llm-platform/gpu-model`, docs/components/gpu-node-pool.md); "
     "nothing selects on it"),
)
# Annotations our own tools read: key -> (the kinds, the tool's constant for the key, the tool).
OUR_READERS: dict[str, tuple[frozenset[str], Callable[[], str], str]] = {
    "llm-platform/model-sizes-gib": (frozenset({"Job"}), lambda: deploy_model.MODEL_SIZES,
                                     "offline/deploy_model/figures.py"),
    "llm-platform/model-weights-bytes": (frozenset({"Deployment"}), lambda: deploy_model.MODEL_WEIGHTS,
                                         "offline/deploy_model/awaits.py"),
}
# Domains where a reader reads some keys and our own selectors the rest (llm-d.ai: the EPP reads llm-d.ai/role, the
# InferencePool selects on our llm-d.ai/inferenceServing and llm-d.ai/model).
SHARED_DOMAINS = {"llm-d.ai"}

ROLES = ("prefill", "decode", "encode", "prefill-decode", "encode-prefill", "encode-prefill-decode", "both")
# key -> (accepts the value, what the reader accepts, source)
VALUE_RULES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "service.beta.kubernetes.io/azure-load-balancer-internal": (
        lambda v: v == "true", 'exactly "true"',
        "cloud-provider-azure pkg/provider/azure_loadbalancer.go requiresInternalLoadBalancer"),
    "azure.workload.identity/use": (
        lambda v: v == "true", 'exactly "true"',
        "azure-workload-identity v1.6.0 mutating webhook objectSelector"),
    "httpscaledobject.keda.sh/skip-scaledobject-creation": (
        lambda v: v == "true", 'exactly "true"', "http-add-on v0.15.0 operator/controllers/http/app.go"),
    "pulumi.com/timeoutSeconds": (
        lambda v: isinstance(v, str) and re.fullmatch(r"[+-]?[0-9]+", v) is not None,
        "an integer (strconv.Atoi; anything else is silently ignored)",
        "pulumi-kubernetes provider/pkg/metadata/overrides.go TimeoutDuration"),
    "networking.istio.io/service-type": (
        lambda v: v in ("ClusterIP", "NodePort", "LoadBalancer"), "ClusterIP, NodePort or LoadBalancer",
        "istio 1.30.3 pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go (a Service type)"),
    "llm-d.ai/role": (lambda v: v in ROLES, ", ".join(ROLES), "llm-d-router v0.10.0 bylabel/roles.go"),
    "kubernetes.azure.com/scalesetpriority": (
        lambda v: v == "spot", "spot", "AKS docs articles/aks/spot-node-pool.md (label and taint value)"),
    **{f"pod-security.kubernetes.io/{mode}": (
        lambda v: v in ("privileged", "baseline", "restricted"), "privileged, baseline or restricted",
        "pod-security-admission api/constants.go validLevels") for mode in ("enforce", "warn", "audit")},
}
ULIMIT_PREFIX = "ulimits.noderesource.dev/container."
ULIMIT_TYPES = {"AS", "CORE", "CPU", "DATA", "FSIZE", "LOCKS", "MEMLOCK", "MSGQUEUE", "NICE", "NOFILE", "NPROC", "RSS",
                "RTPRIO", "RTTIME", "SIGPENDING", "STACK"}  # containerd/nri v0.10.0 plugins/ulimit-adjuster


# ---- the readers' lists ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    file: str
    key: str
    pattern: re.Pattern[str]
    what: str  # annotation | label | taint
    kinds: frozenset[str]

    @property
    def domain(self) -> str:
        return self.key.split("/", 1)[0]


def compile_key(key: str) -> re.Pattern[str]:
    return re.compile("".join(PLACEHOLDERS.get(part, re.escape(part)) for part in re.split(r"(<\w+>)", key)))


@functools.lru_cache(maxsize=None)
def reader_lines() -> tuple[Line, ...]:
    lines = []
    for path in sorted(KEYS.glob("*.txt")):
        for text in path.read_text().splitlines():
            if text.startswith("#") or not text.strip():
                continue
            match = re.fullmatch(r"(\S+/\S+) (?:(annotation|label):(\S+)|(taint))", text)
            assert match, f"{path.name}: cannot read {text!r}"
            key, what, kinds, taint = match.groups()
            lines.append(Line(path.name, key, compile_key(key), taint or what,
                              frozenset(kinds.split(",")) if kinds else frozenset()))
    return tuple(lines)


def files_for(domain: str) -> list[str]:
    return sorted({line.file for line in reader_lines() if line.domain == domain})


# ---- what the plan sets and refers to ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Use:
    """One key as the plan uses it. `what`: set as annotation, label or taint; or refers to one: node (a node label,
    by nodeSelector, node affinity or topologyKey), toleration (a taint), selector (a label of `kinds`)."""
    subject: str
    where: str
    what: str
    key: str
    value: Any = None  # the value set, or (operator, values) of a reference
    kinds: frozenset[str] = ANY
    own: bool = False  # on the object the program itself creates (not a template or what a controller generates)
    pod: Optional[dict[str, Any]] = field(default=None, compare=False, hash=False)


@dataclass
class Material:
    """One planned cluster's Kubernetes objects, node pools and Helm values."""
    name: str
    objects: list[dict[str, Any]]
    pools: list[tuple[str, dict[str, Any]]]
    releases: list[tuple[str, dict[str, Any]]]


def material(name: str, plan: runner.Plan) -> Material:
    pools = [(r.name, r.inputs) for r in plan.of_type("azure-native:containerservice:AgentPool")]
    pools += [(f"{r.name}/{p.get('name')}", p) for r in plan.of_type("azure-native:containerservice:ManagedCluster")
              for p in r.inputs.get("agentPoolProfiles") or []]
    return Material(name, [copy.deepcopy(r.inputs) for r in plan.kubernetes_objects()], pools,
                    [(r.name, r.inputs.get("values") or {}) for r in plan.helm_releases()])


def prefixed(key: Any) -> bool:
    return isinstance(key, str) and "/" in key and not key.startswith("/")


def selector_kinds(path: tuple[str, ...], kind: Optional[str]) -> frozenset[str]:
    if kind is None:
        return ANY
    joined = "/".join(path)
    if "namespaceSelector" in path or "namespaces/selector" in joined:
        return frozenset({"Namespace"})
    if kind == "ServiceMonitor" and path[:2] == ("spec", "selector"):
        return frozenset({"Service"})
    return frozenset({"Pod"})


def references(node: Any, subject: str, kind: Optional[str], path: tuple[str, ...] = ()) -> Iterator[Use]:
    """nodeSelector, node affinity, topologyKey, tolerations and label selectors anywhere below node."""
    if isinstance(node, list):
        for item in node:
            yield from references(item, subject, kind, path)
        return
    if not isinstance(node, dict):
        return
    where = ".".join(path) or "."
    for key, value in node.items():
        here = path + (key,)
        if key == "nodeSelector" and isinstance(value, dict):
            yield from (Use(subject, where + ".nodeSelector", "node", k, ("In", [v]), frozenset({"Node"}))
                        for k, v in value.items() if prefixed(k))
        elif key == "topologyKey" and prefixed(value):
            yield Use(subject, where + ".topologyKey", "node", value, ("Exists", []), frozenset({"Node"}))
        elif key == "tolerations" and isinstance(value, list):
            yield from (Use(subject, where + ".tolerations", "toleration", t["key"],
                            (t.get("operator") or "Equal", [t.get("value", "")]))
                        for t in value if isinstance(t, dict) and prefixed(t.get("key")))
        elif key == "matchExpressions" and isinstance(value, list):
            node_side = "nodeAffinity" in path or "nodeSelectorTerms" in path
            yield from (Use(subject, where + ".matchExpressions", "node" if node_side else "selector", e["key"],
                            (e.get("operator"), e.get("values") or []),
                            frozenset({"Node"}) if node_side else selector_kinds(path, kind))
                        for e in value if isinstance(e, dict) and prefixed(e.get("key")))
        elif key == "matchLabels" and isinstance(value, dict):
            yield from (Use(subject, where + ".matchLabels", "selector", k, ("In", [v]), selector_kinds(path, kind))
                        for k, v in value.items() if prefixed(k))
        elif kind == "Service" and here == ("spec", "selector") and isinstance(value, dict):
            yield from (Use(subject, "spec.selector", "selector", k, ("In", [v]), frozenset({"Pod"}))
                        for k, v in value.items() if prefixed(k))
        yield from references(value, subject, kind, here)


def metadata_uses(subject: str, where: str, meta: dict[str, Any], kinds: frozenset[str], own: bool,
                  pod: Optional[dict[str, Any]] = None) -> Iterator[Use]:
    for what, name in (("annotation", "annotations"), ("label", "labels")):
        for key, value in (meta.get(name) or {}).items():
            if prefixed(key):
                yield Use(subject, f"{where}{name}", what, key, value, kinds, own, pod)


def uses_of(m: Material) -> list[Use]:
    uses: list[Use] = []
    for obj in m.objects:
        kind, meta = obj["kind"], obj.get("metadata") or {}
        subject = f"{kind} {meta.get('namespace', '-')}/{meta.get('name')}"
        spec = obj.get("spec") or {}
        uses += metadata_uses(subject, "metadata.", meta, frozenset({kind}), True)
        if kind in WORKLOADS and isinstance(spec.get("template"), dict):
            template = spec["template"]
            uses += metadata_uses(subject, "spec.template.metadata.", template.get("metadata") or {},
                                  frozenset({"Pod"}), False, template.get("spec") or {})
        if kind == "Gateway":
            uses += metadata_uses(subject, "spec.infrastructure.", spec.get("infrastructure") or {},
                                  GATEWAY_GENERATED, False)
        uses += references(obj, subject, kind)
    for name, pool in m.pools:
        subject = f"AgentPool {name}"
        uses += (Use(subject, "nodeLabels", "label", k, v, frozenset({"Node"}))
                 for k, v in (pool.get("nodeLabels") or {}).items() if prefixed(k))
        for taint in pool.get("nodeTaints") or []:
            key, _, value = taint.split(":", 1)[0].partition("=")
            if prefixed(key):
                uses.append(Use(subject, "nodeTaints", "taint", key, value, frozenset({"Node"})))
    for name, values in m.releases:
        subject = f"Helm release {name} values"
        uses += references(values, subject, None)
        uses += values_metadata(values, subject)
    return uses


def values_metadata(node: Any, subject: str, path: tuple[str, ...] = ()) -> Iterator[Use]:
    """Annotation and label maps in Helm values (the chart decides which objects they land on)."""
    if isinstance(node, list):
        for item in node:
            yield from values_metadata(item, subject, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            what = {"annotations": "annotation", "podAnnotations": "annotation", "labels": "label",
                    "podLabels": "label", "commonLabels": "label"}.get(key)
            if what and isinstance(value, dict):
                yield from (Use(subject, ".".join(path + (key,)), what, k, v) for k, v in value.items() if prefixed(k))
            yield from values_metadata(value, subject, path + (key,))


# ---- the check ---------------------------------------------------------------------------------------------------

def matches(reference: tuple[str, list[Any]], value: Any) -> bool:
    operator, values = reference
    return operator not in ("In", "Equal") or value in values


def same_kind(a: frozenset[str], b: frozenset[str]) -> bool:
    return a is ANY or b is ANY or bool(a & b)


def reader_accepts(line: Line, use: Use) -> bool:
    wanted = {"node": "label", "toleration": "taint", "selector": "label"}.get(use.what, use.what)
    if line.what != wanted:
        return False
    if line.what == "taint" or use.kinds is ANY or line.kinds & use.kinds:
        return True
    return "*" in line.kinds and (use.own or use.what == "selector")


def plan_proof(use: Use, uses: list[Use]) -> bool:
    """The plan itself reads the key (or, for a reference, sets what it refers to)."""
    if use.what == "annotation":  # only OUR_READERS prove an annotation read
        return False
    # a label is read when a selector reads its key (a value nothing selects is unused, not lost); a reference must
    # match a value the plan sets (a selector that selects nothing is lost)
    if use.what == "label" and "Node" not in use.kinds:
        return any(u.what == "selector" and u.key == use.key and same_kind(u.kinds, use.kinds) for u in uses)
    if use.what == "label":  # a node label
        return any(u.what == "node" and u.key == use.key for u in uses)
    if use.what == "taint":
        return any(u.what == "toleration" and u.key == use.key and matches(u.value, use.value) for u in uses)
    setter = {"node": ("label", frozenset({"Node"})), "toleration": ("taint", frozenset({"Node"})),
              "selector": ("label", use.kinds)}[use.what]
    found = [u for u in uses if u.what == setter[0] and u.key == use.key and same_kind(u.kinds, setter[1])]
    return any(matches(use.value, u.value) for u in found) if use.value[0] in ("In", "Equal") else bool(found)


def value_problem(use: Use) -> Optional[str]:
    reference = use.what in ("node", "toleration", "selector")
    if use.key in VALUE_RULES and (not reference or use.value[0] in ("In", "Equal")):
        accepts, wanted, source = VALUE_RULES[use.key]
        values = use.value[1] if reference else [use.value]
        bad = [v for v in values if not accepts(v)]
        if bad:
            return f"value {bad[0]!r}: the reader takes {wanted} ({source})"
    if use.key.startswith(ULIMIT_PREFIX) and use.what == "annotation":
        return ulimit_problem(use)
    return None


def ulimit_problem(use: Use) -> Optional[str]:
    """containerd/nri v0.10.0 plugins/ulimit-adjuster/adjuster.go parseUlimits/adjustUlimits."""
    container = use.key[len(ULIMIT_PREFIX):]
    names = {c["name"] for part in ("containers", "initContainers") for c in (use.pod or {}).get(part) or []}
    if container not in names:
        return f"no container {container!r} in the pod ({sorted(names)}): the adjuster keys by container name"
    try:
        limits = yaml.safe_load(use.value)
    except yaml.YAMLError as e:
        return f"not YAML: {e}"
    for item in limits if isinstance(limits, list) else [limits]:
        if not isinstance(item, dict) or set(item) - {"type", "hard", "soft"}:
            return f"{item!r} is not a {{type, hard, soft}} entry"
        kind = str(item.get("type", "")).upper().removeprefix("RLIMIT_")
        hard, soft = item.get("hard", 0), item.get("soft", 0)
        if kind not in ULIMIT_TYPES:
            return f"unknown rlimit type {item.get('type')!r}"
        if not (isinstance(hard, int) and isinstance(soft, int) and 0 <= soft <= hard < 2 ** 64):
            return f"{item!r}: hard and soft must be uint64 with hard >= soft"
    return None


def no_reader(use: Use) -> Optional[str]:
    for pattern, whats, reason in NO_READER:
        if compile_key(pattern).fullmatch(use.key) and use.what in whats:
            return reason
    return None


def key_problem(use: Use, uses: list[Use]) -> Optional[str]:
    """Why the key of `use` is not known to be read (or set, for a reference), or None."""
    domain = use.key.split("/", 1)[0]
    files = files_for(domain)
    listed = [line for line in reader_lines() if line.pattern.fullmatch(use.key)]
    if any(reader_accepts(line, use) for line in listed):
        return value_problem(use)
    if no_reader(use):
        return None
    if use.key in OUR_READERS and use.what == "annotation":
        kinds, constant, tool = OUR_READERS[use.key]
        if same_kind(kinds, use.kinds) and constant() == use.key:
            return None
        return f"{tool} reads it on {sorted(kinds)} (its constant: {constant()!r})"
    if listed:
        read_as = "; ".join(f"{line.what}:{','.join(sorted(line.kinds)) or '-'} ({line.file})" for line in listed)
        return f"the reader has it as {read_as}, not as {use.what} on {sorted(use.kinds)}"
    reread = f"re-read {', '.join(files)} in tests/upstream/controller-keys/ (and the source its header names)" \
        if files else f"no file of tests/upstream/controller-keys/ covers {domain}/"
    if files and domain not in SHARED_DOMAINS:
        return f"not a key the reader reads: {reread}"
    if plan_proof(use, uses):
        return value_problem(use)
    if use.what in ("node", "toleration", "selector"):
        return f"nothing sets what it refers to: no reader's list has the key and nothing in the plan sets it " \
               f"(with this value); {reread}"
    return f"nothing reads it: not in a reader's list and no selector, toleration or tool of ours reads it; {reread}"


def key_problems(m: Material) -> list[str]:
    uses = uses_of(m)
    out = []
    for use in uses:
        problem = key_problem(use, uses)
        if problem:
            value = use.value if use.what in ("annotation", "label", "taint") else use.value[1]
            out.append(f"{m.name}: {use.subject} {use.where} ({use.what}): {use.key}={value!r}: {problem}")
    return sorted(set(out))


# ---- tests -------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def materials(name: str) -> tuple[Material, ...]:
    """A planned stack's or variant's materials (the regional stacks are PLANNED names of their own)."""
    return (material(name, planned(name)),)


@pytest.mark.parametrize("name", PLANNED)
def test_every_key_a_controller_reads_is_the_pinned_controllers_own(name):
    problems = [p for m in materials(name) for p in key_problems(m)]
    assert not problems, "\n".join(problems)


def test_the_check_saw_every_place():
    """Keys of every kind reach the check: a walker that missed a place would pass vacuously."""
    seen = {(u.what, u.where.rsplit(".", 1)[-1]) for name in ("dev", "llmd-pd", "prod")
            for u in uses_of(materials(name)[0])}
    assert {("annotation", "annotations"), ("label", "labels"), ("label", "nodeLabels"), ("taint", "nodeTaints"),
            ("node", "nodeSelector"), ("node", "topologyKey"), ("node", "matchExpressions"),
            ("toleration", "tolerations"), ("selector", "matchLabels"), ("selector", "matchExpressions")} <= seen
    infra = {u.key for u in uses_of(materials("dev-smb-nogpu")[0]) if u.where.startswith("spec.infrastructure")}
    assert "service.beta.kubernetes.io/azure-load-balancer-internal" in infra


def gateway_material() -> Material:
    m = copy.deepcopy(materials("dev-smb-nogpu")[0])
    m.name = "dev-smb-nogpu (planted)"
    return m


def plant(m: Material, kind: str, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    change(next(o for o in m.objects if o["kind"] == kind and o["metadata"]["name"] == name))


@pytest.mark.parametrize("change, expected", [
    # a misspelt Service annotation on the Gateway's generated Service
    (lambda m: plant(m, "Gateway", "internal-gateway", lambda g: g["spec"]["infrastructure"]["annotations"].update(
        {"service.beta.kubernetes.io/azure-load-balancer-internl": "true"})),
     "Gateway llmp-dev-gateway/internal-gateway spec.infrastructure.annotations (annotation): "
     "service.beta.kubernetes.io/azure-load-balancer-internl='true': not a key the reader reads: "
     "re-read cloud-provider-azure.txt in tests/upstream/controller-keys/"),
    # a value the reader does not parse as true
    (lambda m: plant(m, "Gateway", "internal-gateway", lambda g: g["spec"]["infrastructure"]["annotations"].update(
        {"service.beta.kubernetes.io/azure-load-balancer-internal": "True"})),
     "service.beta.kubernetes.io/azure-load-balancer-internal='True': value 'True': the reader takes exactly \"true\""),
    # the Service annotation on the Gateway itself, which Istio does not copy
    (lambda m: plant(m, "Gateway", "internal-gateway", lambda g: g["metadata"].setdefault("annotations", {}).update(
        {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"})),
     "the reader has it as annotation:Service (cloud-provider-azure.txt), not as annotation on ['Gateway']"),
    # a pod label set as an annotation
    (lambda m: plant(m, "Deployment", "router", lambda d: d["spec"]["template"]["metadata"].setdefault(
        "annotations", {}).update({"azure.workload.identity/use": "true"})),
     "the reader has it as label:Pod (azure-workload-identity.txt), not as annotation on ['Pod']"),
    # a nodeSelector value no pool carries
    (lambda m: plant(m, "Deployment", "router", lambda d: d["spec"]["template"]["spec"]["nodeSelector"].update(
        {"llm-platform/pool": "cpuu"})),
     "llm-platform/pool=['cpuu']: nothing sets what it refers to"),
    # a misspelt toleration key
    (lambda m: plant(m, "Deployment", "router", lambda d: d["spec"]["template"]["spec"]["tolerations"].append(
        {"key": "kubernetes.azure.com/scalesetpriorty", "operator": "Equal", "value": "spot", "effect": "NoSchedule"})),
     "kubernetes.azure.com/scalesetpriorty=['spot']: not a key the reader reads: re-read aks.txt in"),
    # a label of ours nothing selects
    (lambda m: plant(m, "Namespace", "llm", lambda n: n["metadata"]["labels"].update(
        {"llm-platform/gateway-route": "true"})),
     "llm-platform/gateway-route='true': nothing reads it"),
])
def test_a_planted_mistake_is_refused_by_the_same_check(change, expected):
    m = gateway_material()
    assert key_problems(m) == []
    change(m)
    problems = key_problems(m)
    assert len(problems) == 1 and expected in problems[0], problems
    assert problems[0].startswith("dev-smb-nogpu (planted): ")


def test_a_ulimit_annotation_names_a_container_of_its_pod_and_limits_the_adjuster_parses():
    pod = {"containers": [{"name": "vllm"}], "initContainers": [{"name": "routing-sidecar"}]}
    good = "- type: RLIMIT_MEMLOCK\n  soft: 1024\n  hard: 2048\n"

    def use(key, value):
        return Use("Deployment llm-d/x", "spec.template.metadata.annotations", "annotation", key, value,
                   frozenset({"Pod"}), False, pod)
    assert key_problem(use(ULIMIT_PREFIX + "vllm", good), []) is None
    assert "no container 'vlm'" in key_problem(use(ULIMIT_PREFIX + "vlm", good), [])
    assert "unknown rlimit type" in key_problem(use(ULIMIT_PREFIX + "vllm", good.replace("MEMLOCK", "MEMLOK")), [])
    assert "hard >= soft" in key_problem(use(ULIMIT_PREFIX + "vllm", good.replace("2048", "512")), [])


def test_reader_lists_are_sourced_sorted_and_readable():
    files = sorted(KEYS.glob("*.txt"))
    assert files and reader_lines()
    for path in files:
        text = path.read_text().splitlines()
        header = [line for line in text if line.startswith("#")]
        keys = [line for line in text if not line.startswith("#")]
        assert text[:len(header)] == header, f"{path.name}: the header comes first"
        for field_ in ("reader:", "repository:", "files:", "read:"):
            assert any(line.startswith(f"# {field_}") for line in header), f"{path.name}: no {field_} line"
        assert re.search(r"\b[0-9a-f]{40}\b", "\n".join(header)), f"{path.name}: no commit"
        assert keys == sorted(set(keys)), f"{path.name}: keys sorted, once each"
    # every reader file is recorded in SOURCES.md with its checksum
    sources = (UPSTREAM / "SOURCES.md").read_text()
    for path in files:
        assert re.search(rf"^[0-9a-f]{{64}}  controller-keys/{re.escape(path.name)}$", sources, re.M), path.name
    assert SHARED_DOMAINS <= {line.domain for line in reader_lines()}


def test_no_reader_reasons_and_our_readers_are_real():
    assert all(len(reason) > 40 for _, _, reason in NO_READER)
    for key, (_, constant, _) in OUR_READERS.items():
        assert constant() == key
    # ours and no-reader keys are under no reader's domain (a reader list would contradict them)
    for pattern, _, _ in NO_READER:
        assert not files_for(pattern.split("/", 1)[0]), pattern
