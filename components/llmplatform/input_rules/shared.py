"""Rules several components share: the handles they are given (a model endpoint, KEDA, a handle's port
range), image registries, zones, Entra group ids, Kubernetes label keys and values, environment values that must not
be variables, and the upper bounds on model sizes and node counts."""
import re
import urllib.parse
from collections import Counter
from typing import Any, Callable, Collection, Mapping, NamedTuple, Optional, Sequence

from .. import azure_names as names
from ..choices import ZONES
from ..images import acr_name, registry_problem
from ..inference_specs import OLLAMA_READY_SECONDS, ROUTER_READY_SECONDS, WEBUI_READY_SECONDS, stop_grace_seconds
from ..networks import cidr_or_none
from ..regions import has_no_zones
from ..rules import GUID, LABEL_VALUE, WITHHELD, Rules, is_output, known
from ..upgrades import DRAIN_TIMEOUT_MAX_MINUTES, drain_minutes_for, node_drain_seconds


MAX_MODEL_GIB = 4096  # a model download larger than 4 TiB is a typo, not a model
MAX_NODES = 1000  # AKS autoscaler counts per pool (Azure CLI: --min-count/--max-count in [0, 1000])


ACR_ID = re.compile(r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}"
                    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[a-zA-Z0-9]{5,50})", re.IGNORECASE)


def image_registry_rules(r: Rules) -> None:
    """A mirror registry host, known when the component is built (it is written into every image); the ACR id it is
    attached by names the same registry (an id known only at deploy time, another resource's output, is compared
    once it resolves: checks.rechecks._rechecker)."""
    given = r.args.get("image_registry")
    if is_output(given):
        r.add("image_registry", given, "a plain string, known before the deployment (it is written into every "
                                       "image the cluster pulls), not an Output")
    registry = r.text("image_registry", registry_problem) if given != "" else None  # "": no mirror
    acr_id = r.text("image_registry_id", lambda v: None if ACR_ID.fullmatch(v) else
                    "an Azure Container Registry resource id: /subscriptions/<id>/resourceGroups/<group>/providers/"
                    "Microsoft.ContainerRegistry/registries/<name>")
    if r.args.get("image_registry_id") is not None and not given:
        r.add("image_registry_id", r.args["image_registry_id"],
              f"only with {r.ref('image_registry')} (the registry's login server)")
    problem = acr_id_problem(acr_id, registry) if acr_id and registry else None
    if problem:
        r.add("image_registry_id", acr_id, problem.replace("image_registry", r.ref("image_registry")))


def acr_id_problem(acr_id: str, registry: str) -> Optional[str]:
    """Why an ACR resource id cannot be the one behind the mirror `registry` (None when it can)."""
    match = ACR_ID.fullmatch(acr_id)
    if not match:
        return None  # the id's own rule says what it must look like
    name = acr_name(registry)
    if name is None:
        return f"only with an Azure Container Registry in image_registry (<name>.azurecr.io; {registry!r} is " \
               f"another registry)"
    if name != match["name"].lower():
        return f"the id of the registry image_registry names ({name!r}), not {match['name']!r}"
    return None


def zones_rule(r: Rules, key: str, location: Any = None, where: str = "") -> list[str]:
    """Availability zones, each once; none in a `location` (`where` names it) that has no zones (AKS refuses the
    pool there). A location known only at deploy time is compared once it resolves (checks.rechecks._rechecker); one
    Microsoft's region list leaves out is left alone."""
    r.declare(key, allowed=ZONES)
    zones = r.texts(key, lambda z: None if z in ZONES else f"one of {', '.join(ZONES)}")
    if len(set(zones)) != len(zones):
        r.add(key, zones, "each zone once")
    if zones and isinstance(location, str) and has_no_zones(location):
        r.add(key, zones, f"none in {where} {location!r}, a region without availability zones (Microsoft's Azure "
                          f"regions list): leave {r.ref(key)} out")
    return zones


def each_once(r: Rules, key: str, rule: Callable[[str], Optional[str]], allowed: str,
              show: Callable[[str], str] = lambda text: text) -> None:
    """A list of strings, each checked by `rule` (a refused one shown as `show` has it) and each given once,
    compared without case; the ones given more than once are named as written, every spelling once (not
    lowercased: ONCALL@contoso.com and OnCall@Contoso.com are found in the file as they are)."""
    values = r.texts(key, rule, show)
    counts = Counter(v.lower() for v in values)  # not list.count per entry: a thousand alert e-mails stay cheap
    twice = list(dict.fromkeys(v for v in values if counts[v.lower()] > 1))
    if twice:
        r.add(key, twice, allowed)


def group_ids_rule(r: Rules, key: str) -> None:
    """Entra group object ids, each once: a group given twice is one role assignment made twice (two resources of
    one name, the second refused), and Entra compares the ids without case."""
    each_once(r, key, GUID, "each group once")


def label_key_problem(key: str) -> Optional[str]:
    """What a Kubernetes label key must be, when `key` is not one (apimachinery eed236ce IsQualifiedName):
    [prefix/]name, the prefix a DNS subdomain, the name a label value that is not empty (rules.LABEL_VALUE)."""
    prefix, _, name = key.rpartition("/")
    if name and LABEL_VALUE.fullmatch(name) and (not key.count("/") or (
            key.count("/") == 1 and names.dns_subdomain(prefix) is None)):
        return None
    return ("a label key: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and "
            "'.', starting and ending with a letter or digit, like 'llm-platform/pool' or 'kubernetes.io/os'")


# Each part's rules read the part's own inputs and name them; InferenceStack runs them on the inputs it hands each
# part (under the part's names, `as_part`), so its problems name its own inputs.
API_FLAVOURS = ("openai", "ollama")  # what a ModelEndpoint speaks: OpenAI-compatible, or Ollama's native API


def not_variables(env: Mapping[Any, Any],
                  value_rule: Callable[[str], Optional[str]] = lambda v: None) -> list[str]:
    """The names of an environment map's entries that are not a variable name mapped to a string (that `value_rule`
    accepts), sorted: a message names them by variable only (a value in the wrong place may still be a secret: a
    DSN, a key). An output's entry is the shape check's to refuse ("must be a plain value")."""
    return sorted(str(k) for k, v in env.items()
                  if not is_output(v) and (not str(k).isidentifier() or not isinstance(v, str) or value_rule(v)))


# a host a URL names: DNS labels (an IPv4 address is four of them)
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", re.ASCII)


def base_url_problem(url: Any) -> Optional[str]:
    """What a ModelEndpoint's base_url must be for a gate or a UI to call it: http(s)://host[:port], nothing else."""
    allowed = "an http:// or https:// URL of a host and an optional port (1-65535), e.g. http://ollama.llm:11434"
    if not isinstance(url, str):
        return allowed
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # ValueError for a port that is no number, or out of range
    except ValueError:
        return allowed
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.path not in ("", "/") or parts.query or parts.fragment or (port is not None and port < 1) \
            or not _HOST.fullmatch(parts.hostname):  # nor an IPv6 literal: nginx's upstream takes a name or IPv4
        return allowed  # (a quote in the host also broke the UI's migration command, quoted in the shell)
    return None


def host_header_problem(header: str) -> Optional[str]:
    """What a ModelEndpoint's `host_header` must be for the gate in front of it: the Host its nginx sends upstream
    (`proxy_set_header Host <header>;`, written unquoted, inference_specs.router_nginx_conf), so a host name with an
    optional port, as the endpoint's base_url names one. Any text was taken: a space made two arguments (nginx
    refuses the directive and the gate never starts), a `;` or `{` ended the directive and began another of the
    caller's, a `$` read an nginx variable."""
    host, colon, port = header.rpartition(":") if ":" in header else (header, "", "")
    if _HOST.fullmatch(host.lower()) and (not colon or (port.isascii() and port.isdigit()
                                                         and 1 <= int(port) <= 65535)):
        return None
    return ("a host name and an optional port (1-65535), e.g. ollama-scaled.llm or ollama-scaled.llm:8080 (the Host "
            "the gate's nginx sends upstream, written into its config as given), or \"\" for the URL's host")


def listener_rule(r: Rules, listener: str) -> None:
    """The route target's listener the component's HTTPRoutes attach to (their parentRefs' `sectionName`): the name
    of a listener of the Gateways, which the HTTPRoute CRD takes as a SectionName (gateway-api v1.6.1
    config/crd/standard HTTPRoute.yaml, tests/upstream/crds: 1-253 characters,
    `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`, a DNS subdomain) and refuses otherwise at
    `pulumi up`. GatewayAccess's route_target names its own; a handle built by hand took any text."""
    value = known(r.args.get("route_target"), listener)
    wrong = names.dns_subdomain(value) if isinstance(value, str) else None
    if wrong:
        r.add(f"route_target.{listener}", value, f"a Gateway listener's name (the routes' sectionName): {wrong}")


def name_given_rule(r: Rules, key: str, name: str = "namespace",
                    rule: Callable[[str], Optional[str]] = names.dns_label) -> None:
    """A handle `key`'s field `name` naming a Kubernetes object the component uses (the namespace it runs in, a
    model volume's claim) names one (`rule` says what a name is): the handles' shape check leaves "" to the component
    reading it (checks.shapes: KEDA off hands out a KedaEndpoints with none), and here "" names nothing. A namespace
    "" reached the gate's and the UI's workload identity (a WorkloadIdentity child), refused there as that child's
    `namespace`, an input the user never gave; a claim "" reached the server's pod, refused by the API server at
    `pulumi up` (a volume's `persistentVolumeClaim.claimName` is required: kubernetes pkg/apis/core/validation
    validatePersistentClaimVolumeSource)."""
    if known(r.args.get(key), name) == "":
        r.add(f"{key}.{name}", "", rule("") or "a name")


def endpoint_rule(r: Rules) -> None:
    """A ModelEndpoint handed over: its API flavour is one a gate or a UI knows how to front, its URL one they can
    call, its namespace one they run in."""
    name_given_rule(r, "endpoint")  # the namespace it runs in
    api = known(r.args.get("endpoint"), "api")
    if api is not None and api not in API_FLAVOURS:
        r.add("endpoint.api", api, ", ".join(API_FLAVOURS))
    url = known(r.args.get("endpoint"), "base_url")
    wrong = base_url_problem(url) if url is not None else None
    if wrong:
        r.add("endpoint.base_url", url, wrong)


# A `keda` handle from an Observability with `keda: False` carries empty fields (no interceptor, port 0, no
# namespace): nothing would route through it or install the CRDs its users create, so it is refused where used.
KEDA_OFF = "the keda of an Observability with keda off"
KEDA_ALLOWED = "the keda of an Observability with keda on (its default), or no keda at all"


def keda_rule(r: Rules) -> bool:
    """The KEDA handle refused when it is KEDA off's; True when a handle of KEDA on is given (its fields may be
    read)."""
    keda = r.args.get("keda")
    if not isinstance(keda, Mapping):
        return False
    host = known(keda, "interceptor_host")
    # KEDA off's handle is host "" and port 0: a port 0 beside a host not known yet (an output) is that handle too,
    # not a port to range-check
    if host == "" or (host is None and known(keda, "interceptor_port") == 0):
        r.add("keda", KEDA_OFF, KEDA_ALLOWED)
        return False
    return True


def handle_range_rule(r: Rules, key: str) -> None:
    """A cluster handle's range a component writes into its objects (the router's nginx `set_real_ip_from` for the
    pods' range and its Front Door `geo` for the node subnet and VNet, the internal Gateway's subnet): a value that
    is no range would fail where it is used (nginx refuses to start), so it is refused here. A handle built by hand
    is not AksCluster's, whose rules checked it."""
    value = known(r.args.get("cluster"), key)
    if value is not None and cidr_or_none(value) is None:
        r.add(f"cluster.{key}", value, "an IPv4 range such as 192.168.0.0/16 (AksCluster's handle carries it)")


def drain_rule(r: Rules, pods: str, grace: Optional[int], spent: str, key: Optional[str] = None,
               counted: Optional[int] = None, sharing: int = 1, ready_seconds: int = 0) -> None:
    """`pods` take up to `grace` s to stop (their terminationGracePeriodSeconds: `spent`, naming the inputs it comes
    from) and must stop within a drain of their node: AKS's upgrade waits the cluster's drain_timeout_minutes per
    node and then fails, and the autoscaler's scale-down kills them at as many seconds (AksCluster sends both;
    llmplatform.upgrades). Up to `sharing` of them may share the node, each next one evicted once the previous one's
    replacement is Ready (up to `ready_seconds`): upgrades.node_drain_seconds. Refused against a cluster handle that
    carries the timeout as a plain value, naming `key` (the input that sets the grace, of which the grace counts
    `counted`, default all; None for a fixed grace: the drain is named) and the fix. A handle without it (a cluster
    made otherwise) is not judged; one with an output (another stack's, the component provider's) once it resolves:
    each workload component waits for the field (checks.late_rules on `cluster` with DRAIN_FIELDS) before its pods
    take their grace, and refuses it then in these words (docs/decisions.md, "The answer's timeouts travel with the
    handles"); this repository's plan check, offline/deploy_model/node_drains.py, judges its own stacks' pools."""
    if grace is not None:
        _drain_problem(r, pods, grace, spent, key, counted, sharing, ready_seconds,
                       known(r.args.get("cluster"), "drain_timeout_minutes"))


def _drain_problem(r: Rules, pods: str, grace: int, spent: str, key: Optional[str], counted: Optional[int],
                   sharing: int, ready_seconds: int, minutes: Any) -> None:
    """drain_rule's judgement of a drain timeout known now."""
    drain = node_drain_seconds(grace, sharing, ready_seconds)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or drain <= minutes * 60:
        return
    timeout = f"{r.ref('cluster')}.drain_timeout_minutes"
    shared = "" if drain == grace else (
        f"; up to {sharing} of them may share a node and its drain evicts each next one only once the previous one's "
        f"replacement is Ready (up to {ready_seconds} s: image pull and probes), so the node's drain takes up to "
        f"{drain} s")
    cut = "" if grace <= minutes * 60 else f"; a scale-down kills them at {minutes * 60} s, their answers cut"
    outlasts = (f"{pods} take up to {grace} s to stop ({spent}, their terminationGracePeriodSeconds){shared}, longer "
                f"than the {minutes} minutes ({minutes * 60} s) {timeout} gives a drain of their node (an upgrade then "
                f"fails{cut})")
    needed = drain_minutes_for(grace, sharing, ready_seconds)
    figures = f"{grace}" if drain == grace else f"{grace}, {sharing}, {ready_seconds}"
    raise_drain = (f"give the AksCluster drain_timeout_minutes={needed} (upgrades.drain_minutes_for({figures})); on a "
                   f"cluster of your own, {needed} as your pools' drainTimeoutInMinutes and as its handle's")
    if key is None:
        r.add("cluster.drain_timeout_minutes", minutes, f"a drain {pods} fit in: {outlasts}; {raise_drain}")
        return
    fix = f", or {raise_drain}" if needed <= DRAIN_TIMEOUT_MAX_MINUTES else \
        f" (no drain holds {drain} s: AKS waits at most {DRAIN_TIMEOUT_MAX_MINUTES} minutes)"
    most = (r.get(key) if counted is None else counted) - (drain - minutes * 60)
    lower = f"lower {r.ref(key)} to at most {most}" if most >= 1 else \
        f"no {r.ref(key)} fits while {sharing} of them may share a node"
    r.add(key, r.get(key), f"a value whose pods fit the cluster's drain: {outlasts}; {lower}{fix}")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _handed(value: Any) -> bool:
    """A handle's timeout the rules judge against: a whole number in the range its value rule admits (1-86400,
    checks/shapes.py timeout_problem); one outside it is refused as the handle's field, not judged again."""
    return _whole(value) and 1 <= value <= 86400


# What each of ModelAutoscaler's timeouts becomes in the InterceptorRoute it writes (http-add-on v0.15.0
# operator/apis/http/v1beta1 InterceptorRoute `timeouts`): the interceptor obeys the route's before its own
SERVER_TIMEOUT_ROUTE_FIELDS = {"request_timeout_seconds": "responseHeader, the wait for an answer's headers",
                               "cold_start_timeout_seconds": "readiness, the wait for a replica from zero"}


def server_timeouts_rule(r: Rules, own: Mapping[str, Optional[int]]) -> None:
    """ModelAutoscaler's timeouts (`own`: input -> its value, the default when not given) at least the model
    server's (the ModelServer handle's fields of the same names: what the server's gate and clients wait): the
    InterceptorRoute the autoscaler writes carries them, and the KEDA HTTP interceptor cuts a request at the route's
    figures, not the gate's (http-add-on v0.15.0 interceptor/middleware/routing.go: the route's `timeouts.request`
    before the chart's; interceptor/proxy.go the route's responseHeader and readiness). A handle's field known only
    at deploy time is judged once it resolves (checks.late_rules); the component took no default from it."""
    for key, value in own.items():
        theirs = known(r.args.get("model_server"), key)
        if value is None or not _handed(theirs) or value >= theirs:
            continue
        fix = (f"give {r.ref(key)}={theirs} (the handle's figure was not known when the autoscaler was built, so "
               "its default stood)") if r.args.get(key) is None else \
            f"leave {r.ref(key)} out to take the server's, or give at least {theirs}"
        r.add(key, value, f"at least {r.ref('model_server')}.{key} ({theirs} s), what the model server's clients "
                          f"wait: the InterceptorRoute this autoscaler writes ({SERVER_TIMEOUT_ROUTE_FIELDS[key]}) "
                          f"would cut them at {value} s; {fix}")


MAX_WAIT_SECONDS = 86400  # the longest a gate behind the KEDA interceptor waits: an answer plus a cold start


def wait_budget_rule(r: Rules, answer: int, cold: int, who: str, fixed: Collection[str] = ()) -> None:
    """`request_timeout_seconds` + `cold_start_timeout_seconds` (`answer` + `cold`) at most MAX_WAIT_SECONDS: behind
    the KEDA interceptor the gate waits both (inference_specs.wait_budget_seconds), InferenceStack's own and, taken
    when it is not given them, Observability's (its keda handle carries them). `who` says who waits. The input named
    is one not in `fixed` (one the caller did not give) that alone can take the excess, the cold start first;
    else the sum is refused as the cold start's ("at most 0" named no fix)."""
    if answer + cold <= MAX_WAIT_SECONDS:
        return
    other = {"cold_start_timeout_seconds": answer, "request_timeout_seconds": cold}
    waits = (f"{who} waits {r.ref('request_timeout_seconds')} + {r.ref('cold_start_timeout_seconds')} ({answer} + "
             f"{cold} = {answer + cold} s), at most {MAX_WAIT_SECONDS} s")
    fits = [k for k in other if k not in fixed and MAX_WAIT_SECONDS - other[k] >= 1]
    if fits:
        r.add(fits[0], r.get(fits[0]), f"at most {MAX_WAIT_SECONDS - other[fits[0]]}: {waits}")
    else:
        r.add("cold_start_timeout_seconds", cold, f"a cold start that fits beside {r.ref('request_timeout_seconds')}: "
                                                  f"{waits}; lower both to at most {MAX_WAIT_SECONDS} s together")


def interceptor_drain_rule(r: Rules, answer: Optional[int], cold: Optional[int]) -> None:
    """A server behind the KEDA interceptor whose clients wait `answer` + `cold` (InferenceStack's gate: its
    request_timeout_seconds + cold_start_timeout_seconds) no longer than the interceptor lets a request in flight run
    when one of its pods stops: after SIGTERM it closes its listener and waits its drainTimeout for the requests in
    flight, then stops (http-add-on v0.15.0 interceptor/main.go "Shutdown sequencing", interceptor/config/serving.go
    KEDA_HTTP_DRAIN_TIMEOUT), and Observability sets that drain to the sum of its own two timeouts, which its keda
    handle carries. (The interceptor's own total deadline does not bind here: the route a ModelAutoscaler writes
    carries its own.) A handle without them (built by hand) is not judged; one whose figures are outputs, once they
    resolve (checks.late_rules)."""
    keda = r.args.get("keda")
    k_answer, k_cold = known(keda, "request_timeout_seconds"), known(keda, "cold_start_timeout_seconds")
    if answer is None or cold is None or not _handed(k_answer) or not _handed(k_cold) \
            or answer + cold <= k_answer + k_cold:
        return
    excess, handle = answer + cold - k_answer - k_cold, r.ref("keda")
    # the input to lower: the one longer than its handle's figure first, whichever alone can take the excess; when
    # neither can (a drain shorter than either timeout), both, to the handle's own figures
    mine = {"request_timeout_seconds": (answer, k_answer), "cold_start_timeout_seconds": (cold, k_cold)}
    fits = [k for k in sorted(mine, key=lambda k: mine[k][0] <= mine[k][1]) if mine[k][0] - excess >= 1]
    if fits:
        key, most = fits[0], f"at most {mine[fits[0]][0] - excess}"
    else:
        key, most = "request_timeout_seconds", f"at most {k_answer}, and {r.ref('cold_start_timeout_seconds')} at " \
                                               f"most {k_cold} (neither alone fits)"
    if r.args.get("request_timeout_seconds") is None and r.args.get("cold_start_timeout_seconds") is None:
        # neither given: the handle's figures were outputs (another stack's, the component provider's) and set no
        # default, so the component's own stood ("leave them out" would be no fix)
        fix = (f"give this component {r.ref('request_timeout_seconds')}={k_answer} and "
               f"{r.ref('cold_start_timeout_seconds')}={k_cold} (the handle's figures were not known when it was "
               f"built, so its defaults stood), or give Observability request_timeout_seconds={answer} and "
               f"cold_start_timeout_seconds={cold}")
    else:
        fix = (f"give Observability request_timeout_seconds={answer} and cold_start_timeout_seconds={cold}, or leave "
               f"this component's timeouts out to take the handle's")
    r.add(key, mine[key][0], f"{most}: with {handle} the gate waits {r.ref('request_timeout_seconds')} + "
                             f"{r.ref('cold_start_timeout_seconds')} ({answer} + {cold} = {answer + cold} s), longer "
                             f"than the KEDA HTTP interceptor lets the requests in flight run when one of its pods "
                             f"stops (its drainTimeout, {handle}.request_timeout_seconds + "
                             f"{handle}.cold_start_timeout_seconds: {k_answer} + {k_cold} = {k_answer + k_cold} s, "
                             f"Observability's two timeouts), so a rollout, scale-in or node drain of the interceptor "
                             f"cuts the longer answers; {fix}")


def router_drain_rule(r: Rules, answer: Optional[int], replicas: Any) -> None:
    """The gate's nginx pods let the answers in flight run up to `answer` (request_timeout_seconds) when they stop
    (api_router), `replicas` of them: ApiGate's, LlmdStack's."""
    drain_rule(r, "the gate's nginx pods", stop_grace_seconds(answer) if answer else None,
               f"{r.ref('request_timeout_seconds')} + 30 s", "request_timeout_seconds",
               sharing=replicas if isinstance(replicas, int) else 1, ready_seconds=ROUTER_READY_SECONDS)


def webui_sharing(max_replicas: Any) -> dict[str, int]:
    """drain_rule's count for Open-WebUI's pods: all `max_replicas` of them may share a node (their spread on the
    hostname is ScheduleAnyway: docs/decisions.md, "Node drains with replicas that share a node"), each replacement
    Ready within inference_specs.WEBUI_READY_SECONDS."""
    return {"sharing": max_replicas if isinstance(max_replicas, int) and not isinstance(max_replicas, bool) else 1,
            "ready_seconds": WEBUI_READY_SECONDS}


def ollama_sharing(r: Rules, replicas: Optional[int], gpus_per_replica: Optional[int]) -> dict[str, int]:
    """drain_rule's count for Ollama's pods: its `replicas` may share a node, on a GPU pool no more than the GPUs of
    the nodes an upgrade drains at once take (the gpu handle's gpus_per_node times its nodes_drained_at_once,
    default 1: they share one budget, as the plan check, offline/deploy_model/node_drains.py, and the stack,
    PlatformConfig.ollama_sharing, count); a ModelAutoscaler's maximum is its own input, which the plan check reads
    from the plan."""
    most = replicas if isinstance(replicas, int) and replicas > 0 else 1
    per_node = known(r.args.get("gpu"), "gpus_per_node") if r.get("accelerator") == "gpu" else None
    if isinstance(per_node, int) and not isinstance(per_node, bool):
        at_once = known(r.args.get("gpu"), "nodes_drained_at_once", 1)
        at_once = at_once if isinstance(at_once, int) and not isinstance(at_once, bool) and at_once >= 1 else 1
        most = min(most, max(1, per_node // (gpus_per_replica or 1)) * at_once)
    return {"sharing": most, "ready_seconds": OLLAMA_READY_SECONDS}


def own_key_rule(r: Rules) -> None:
    """`api_key_replaceable` keeps the gate's own generated key and its two Key Vault secrets out of `protect`: a gate
    with no key (`api_key_auth` false) or one reading someone else's key map (`api_key_map_secret`) generates none, so
    the input would change nothing; refused, as a caller who sets it expects a key it frees (ApiGate, LlmdStack, and
    InferenceStack through its gate)."""
    if r.get("api_key_replaceable") is not True:
        return
    if r.get("api_key_auth") is False:
        r.add("api_key_replaceable", True, f"only with {r.ref('api_key_auth')} true: a gate without a key generates "
                                           "none to keep out of protect")
    elif r.args.get("api_key_map_secret"):
        r.add("api_key_replaceable", True, f"only without {r.ref('api_key_map_secret')}: a gate reading that key map "
                                           "generates no key of its own to keep out of protect")


def route_target_rule(r: Rules) -> None:
    """A RouteTarget's Gateways, where the component's HTTPRoutes attach. GatewayAccess's names one at least; one built
    by hand with none gives routes with no `parentRefs`, which the HTTPRoute CRD takes (gateway-api v1.6.1: no
    minItems) and which attach nowhere, so nothing is published and nothing fails. A name that is no object name is
    taken too (a parentRef's name is an ObjectName, 1-253 characters, no pattern) and names no Gateway (a Gateway's
    name is a DNS subdomain, as every custom resource's): the same silence. A name given twice makes two parentRefs
    to one Gateway and listener, which the CRD refuses at `pulumi up` ("sectionName must be unique when parentRefs
    includes 2 or more references to the same parent", HTTPRoute.yaml x-kubernetes-validations)."""
    gateways = known(r.args.get("route_target"), "gateway_names")
    if not isinstance(gateways, (list, tuple)):
        return
    if not gateways:
        r.add("route_target.gateway_names", [], "at least one Gateway name (GatewayAccess's `route_target` names its "
                                                "Gateways); without one the routes attach nowhere")
    for i, gateway in enumerate(gateways):
        wrong = None if is_output(gateway) else "a string" if not isinstance(gateway, str) \
            else names.dns_subdomain(gateway)
        if not wrong and gateway in gateways[:i]:
            wrong = ("a Gateway the list does not name already: each name becomes a parentRef with the component's "
                     "listener, and the HTTPRoute CRD refuses two to one Gateway and listener")
        if wrong:
            r.add(f"route_target.gateway_names[{i}]", gateway, wrong)


# A setting whose name ends so holds a secret (Open-WebUI 0.11.0: OPENAI_API_KEYS, MICROSOFT_CLIENT_SECRET,
# LDAP_APP_PASSWORD, SCIM_TOKEN, CHROMA_CLIENT_AUTH_CREDENTIALS, GOOGLE_APPLICATION_CREDENTIALS_JSON, ...); its
# ENABLE_* switches (ENABLE_API_KEYS) and USER_PERMISSIONS_* flags are booleans
SECRET_ENDINGS = ("KEY", "KEYS", "SECRET", "PASSWORD", "PASSWD", "TOKEN", "CREDENTIALS", "CREDENTIALS_JSON")
# secrets whose name glues the ending on: libpq's password (PostgreSQL 17 and 18 docs, libpq "Environment Variables":
# PGPASSWORD "behaves the same as the password connection parameter"), which Open-WebUI's drivers read and its
# migration Job receives with the UI's other PG* settings (open_webui.reaches_migration)
SECRET_NAMES = ("PGPASSWORD",)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")  # scheme://user:password@host


def looks_secret(name: str, value: Any = "") -> bool:
    """A variable whose value should come from Key Vault: its name ends like a secret's, or its value is a URL with
    a password."""
    # a switch is no secret: ENABLE_API_KEYS, huggingface_hub's HF_HUB_DISABLE_IMPLICIT_TOKEN
    named = not (name.startswith(("ENABLE_", "USER_PERMISSIONS_")) or "DISABLE_" in name) and any(
        name == end or name.endswith("_" + end) for end in SECRET_ENDINGS) or name in SECRET_NAMES
    return named or (isinstance(value, str) and bool(_URL_PASSWORD.search(value)))


def is_true(value: str) -> bool:
    """A switch on, for a reader that takes it as on only for 'true' in any case (Open-WebUI 0.11.0 env.py and
    config.py, vLLM 0.19.1 envs.py: `os.getenv(name, "False").lower() == "true"`)."""
    return value.lower() == "true"


def not_true(value: str) -> bool:
    """A switch left off, as is_true reads it."""
    return not is_true(value)


class EnvAlias(NamedTuple):
    """A variable the software reads as another way to a setting the component sets (`replaces`): `how` it does, at
    the pinned version (sources in docs/decisions.md, "2026-12-05: settings the software reads under another name");
    `harmless(value)` is true for a value that changes nothing (a switch's default, an empty string the software
    takes for unset), which is let through."""
    replaces: str
    how: str
    harmless: Callable[[str], bool] = lambda value: False


def env_alias_rule(r: Rules, key: str, aliases: Mapping[str, EnvAlias], judge_values: bool = True) -> list[str]:
    """Refuse the variables of `key` (an escape hatch's mapping) that reach a setting the component sets under
    another name, each with its value and why. `judge_values` False (`secret_env`: its values are Key Vault secret
    names, the setting's value unknown here) refuses them whatever their value. A value that looks like a secret is
    not shown (nor, in `secret_env`, one that is no secret name: it may be the secret pasted in its place). A value
    that is no string is left to the escape hatch's own type rule (PORT given 8080, the number, is refused for its
    type alone, not as a port other than 8080). Returns the names refused."""
    env = r.given(key)
    if not isinstance(env, Mapping):
        return []
    refused = []
    for name, value in sorted((str(k), v) for k, v in env.items()):
        alias = aliases.get(name)
        if alias is None or (judge_values and (not isinstance(value, str) or alias.harmless(value))):
            continue
        refused.append(name)
        hidden = looks_secret(name, value) if judge_values else \
            not isinstance(value, str) or names.key_vault_secret(value) is not None
        r.add(f"{key}[{name!r}]", WITHHELD if hidden else value,
              f"no {name}: {alias.how}; it would override the component's {alias.replaces}")
    return refused


def plain_env_rule(r: Rules, managed_env: tuple[str, ...], managed_how: str, secret_home: str,
                   refused_already: Sequence[str] = ()) -> None:
    """A component's `extra_env` escape hatch: variable names mapped to strings, none the component sets
    (`managed_env`, which it `managed_how`), none that looks like a secret (plain text in the Deployment, Pulumi's
    state and the plan files): `secret_home` ends the refusal, saying where such a value goes instead.
    `refused_already`: names another rule refused for a reason of its own (env_alias_rule), not repeated here."""
    env = r.given("extra_env")
    if not isinstance(env, Mapping):
        return
    bad = not_variables(env)
    managed = sorted(set(map(str, env)) & set(managed_env))
    secret = sorted(str(k) for k, v in env.items()
                    if str(k) not in managed and str(k) not in refused_already and looks_secret(str(k), v))
    if bad:
        r.add("extra_env", bad, "environment variable names mapped to string values")
    if managed:
        r.add("extra_env", managed, f"variables other than {', '.join(managed_env)}, which the component {managed_how}")
    if secret:
        r.add("extra_env", secret, f"plain settings only: these look like secrets (a name ending in "
                                   f"{', '.join(SECRET_ENDINGS)}, or a URL with a password){secret_home}")
