"""The shape of inputs as their Args TypedDict says: an object, no unknown key, every required input, each handle
or spec an object of its own type (recursively), a hand-built handle's values, plain values where the code
reads them."""
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

import pulumi

from ..azure_names import dns_label, dns_subdomain, key_vault, resource_group, service_name
from ..choices import ACCELERATORS, EXPANDERS, GPU_DRIVERS, NETWORK_POLICIES, UPGRADE_CHANNELS, ZONES
from ..gpu_skus import gpu_memory_problem
from ..images import mirror_problem
from ..rules import GUID, is_output, nearest_or_all
from ..upgrades import DRAIN_TIMEOUT_MAX_MINUTES
from .annotations import _output_allowed, _typeddict_of
from .handle_types import _named, _snake, component_given, handed_out, other_handle, schema_names
from .messages import _got, _invalid
from .plain_values import _output_items, _plain_value_problem


def network_policy_problem(value: Any) -> Optional[str]:
    """A hand-built cluster handle's network policy engine: one AKS runs, as AksCluster's network_policy spells it
    (a typo would silently drop the Cilium guard of Observability's Prometheus servers); a cluster with none is
    refused, since every NetworkPolicy the components create would be stored and not enforced."""
    if not isinstance(value, str) or value in NETWORK_POLICIES:
        return None
    allowed = f"one of {', '.join(NETWORK_POLICIES)}, as AKS's networkProfile.networkPolicy names it"
    if value.lower() in ("none", ""):
        return (f"{allowed}: without an engine every pod reaches every other (AKS's default), and the components' "
                "NetworkPolicies (only the API gate reaches Ollama, only the gates reach the KEDA interceptor) are "
                "stored and not enforced; install one on the cluster first (az aks update --network-policy)")
    return allowed


def choice_problem(allowed: tuple[str, ...], whose: str) -> Callable[[Any], Optional[str]]:
    """A hand-built handle's field that takes one of `allowed`, as `whose` spells it: the cluster's auto-upgrade
    channel (GPU pools carry kubernetes_version only with none) and autoscaler expander (a GPU pool's on-demand
    fallback needs `priority`: `Priority` was refused as the pool's `fallback.enabled`, and passed without a fallback),
    GpuScheduling's `driver` (`Operator` passed, and Observability installed a DCGM exporter beside the GPU Operator's
    own) and ModelServer's `accelerator` (`GPU` passed, read as cpu)."""
    def problem(value: Any) -> Optional[str]:
        if not isinstance(value, str) or value in allowed:
            return None
        return f"one of {', '.join(allowed)} ({whose})"
    return problem


def issuer_problem(value: Any) -> Optional[str]:
    """A hand-built cluster handle's OIDC issuer, which every workload identity's federated credential trusts: an
    https URL with a host and no query or fragment (OpenID Connect Discovery 1.0, section 3: "a URL using the https
    scheme with no query or fragment components"; Core 1.0, section 2: `iss` is "a case sensitive URL ... that
    contains scheme, host, and optionally, port number and path components"; Entra matches it with the token's
    `iss`). Any such URL is taken, not AKS's form alone (`https://<region>.oic.prod-aks.azure.com/...`, `.azure.cn`,
    `.azure.us`, another cluster's issuer). "" planned: own-cluster.md's `... else ""` for a cluster without an issuer,
    which mypy takes where its `None` is refused as missing, built credentials Entra refuses at `pulumi up`; so did a
    value read with its line's newline (`az ... -o tsv`), or `https://` with no host."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unclosed [ of an IPv6 host, a port that is no number
        parts, host = None, None
    if value.startswith("https://") and parts is not None and host and not parts.query and not parts.fragment \
            and "?" not in value and "#" not in value and parts.username is None \
            and not any(c.isspace() or not c.isprintable() for c in value):
        return None
    return ("the cluster's OIDC issuer, an https:// URL with a host, no space, query or fragment, as the cluster's "
            "tokens carry it (az aks show --query oidcIssuerProfile.issuerUrl -o tsv; a cluster without one: "
            "az aks update --enable-oidc-issuer --enable-workload-identity)")


def drain_timeout_problem(value: Any) -> Optional[str]:
    """A hand-built cluster handle's drain timeout: the minutes the cluster's pools wait for a node's pods to stop,
    as AKS takes them (1-1440; AgentPoolUpgradeSettings.drainTimeoutInMinutes). 0 or less planned: the workloads'
    drain check then asked for a request timeout below zero, and 5000 reached a regular GPU pool, which AKS
    refuses at `pulumi up`. Its type is the shape check's (a whole number)."""
    if isinstance(value, bool) or not isinstance(value, int) or 1 <= value <= DRAIN_TIMEOUT_MAX_MINUTES:
        return None
    return (f"a whole number from 1 to {DRAIN_TIMEOUT_MAX_MINUTES}, your pools' upgradeSettings.drainTimeoutInMinutes "
            "(AKS's 30 where they set none), or leave it out: the workloads' graces are then not judged")


def zones_problem(value: Any) -> Optional[str]:
    """A hand-built cluster handle's availability zones, which GpuNodePool's pools take when they name none (and
    GatewayAccess's public IP): Azure's zones, each once. ["1", "4"] planned, and AKS refuses a pool in a zone its
    region does not have. Its items' type is the shape check's (text)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(z, str) for z in value):
        return None
    if all(z in ZONES for z in value) and len(set(value)) == len(value):
        return None
    return (f"each of {', '.join(ZONES)} once, as the cluster's pools' availabilityZones name them ([] for a cluster "
            "without zones)")


def workspace_problem(value: Any) -> Optional[str]:
    """A hand-built monitoring handle's workspace: an Azure resource ID; "" would reach Azure as a data collection
    destination and an alert rule group's scope, which it refuses."""
    if not isinstance(value, str) or value.strip():
        return None
    return "the workspace's Azure resource ID (/subscriptions/.../workspaces/<name>; Observability sends to it)"


def _text(rule: Callable[[str], Optional[str]]) -> Callable[[Any], Optional[str]]:
    """A name rule for a field whose type the shape check refuses first when it is no text."""
    return lambda value: rule(value) if isinstance(value, str) else None


def _name(rule: Callable[[str], Optional[str]]) -> Callable[[Any], Optional[str]]:
    """A name rule (Kubernetes, Azure, a GUID) for a handle's field, "" left to the component that reads it:
    Observability with KEDA off hands out its KedaEndpoints with no namespace (""), and a Go program's preview holds
    a field not known yet at "" (docs/decisions.md, "Handles from Go, TypeScript, .NET and Java programs in a
    preview")."""
    return lambda value: rule(value) if isinstance(value, str) and value else None


def nodes_at_once_problem(value: Any) -> Optional[str]:
    """A hand-built GpuScheduling's nodes drained at once: 1 to AKS's most nodes of a pool (1000). Its type is the
    shape check's (a whole number)."""
    if isinstance(value, bool) or not isinstance(value, int) or 1 <= value <= 1000:
        return None
    return ("a whole number of nodes from 1 to 1000: as many as an upgrade of your pool drains at once (its maxSurge "
            "plus maxUnavailable, in nodes), or leave it out for one")


def timeout_problem(value: Any) -> Optional[str]:
    """A hand-built KedaEndpoints' or ModelServer's timeout: seconds, as the components that hand them out take
    theirs (1-86400). 0 or less would have its receivers hold their own timeouts to nothing. Its type is the shape
    check's (a whole number)."""
    if isinstance(value, bool) or not isinstance(value, int) or 1 <= value <= 86400:
        return None
    return "a whole number of seconds from 1 to 86400 (Observability's, InferenceStack's own range), or leave it out"


# Values of handle fields a component checks when a handle arrives built by hand (from a stack reference, say)
# rather than from the component that hands it out, whose rules checked them.
HANDLE_VALUE_RULES: dict[str, dict[str, Callable[[Any], Optional[str]]]] = {
    "ClusterHandle": {"image_registry": mirror_problem,
                      # every Azure resource a consumer builds beside the cluster goes to this group ("" planned)
                      "resource_group_name": _text(resource_group),
                      "network_policy": network_policy_problem,
                      "upgrade_channel": choice_problem(
                          UPGRADE_CHANNELS, "AKS's autoUpgradeProfile.upgradeChannel; a cluster without one is none"),
                      "autoscaler_expander": choice_problem(
                          EXPANDERS, "AKS's autoScalerProfile.expander; a cluster without one is random"),
                      "oidc_issuer_url": issuer_problem, "drain_timeout_minutes": drain_timeout_problem,
                      "zones": zones_problem},
    "MonitoringHandle": {"log_analytics_workspace_id": workspace_problem, "monitor_workspace_id": workspace_problem},
    # a fit check of a model against a negative, NaN or 10^12 GiB GPU judged nothing (NaN raised a ValueError)
    "GpuScheduling": {"gpu_memory_gib": gpu_memory_problem, "driver": choice_problem(
        GPU_DRIVERS, "who installed the NVIDIA driver, as GpuNodePool's driver"),
                      "nodes_drained_at_once": nodes_at_once_problem},
    "ModelServer": {"accelerator": choice_problem(ACCELERATORS, "as InferenceStack's accelerator"),
                    "request_timeout_seconds": timeout_problem, "cold_start_timeout_seconds": timeout_problem,
                    "namespace": _name(dns_label), "deployment": _name(dns_subdomain), "service": _name(service_name)},
    # Kubernetes names: a hand-built handle's wrong one was refused by the next component's own child, naming an
    # input the user never gave (an InferenceStack's `model_volume.namespace` of max_count surfaced as ApiGate's
    # `endpoint.base_url`), or by the API server at `pulumi up`
    "ModelVolume": {"namespace": _name(dns_label), "claim_name": _name(dns_subdomain)},
    "RouteTarget": {"namespace": _name(dns_label)},
    "ModelEndpoint": {"namespace": _name(dns_label), "service": _name(service_name)},
    # one entry per handle: a second "KedaEndpoints" key replaced the first, its timeouts' rule with it (a hand-built
    # keda handle's 0 or -5 s reached InferenceStack's interceptor drain rule: "at most -5")
    "KedaEndpoints": {"namespace": _name(dns_label), "request_timeout_seconds": timeout_problem,
                      "cold_start_timeout_seconds": timeout_problem},
    # own-cluster.md builds one by hand: a vault name typed as the tenant (`kv-plat-weu`) went into every
    # SecretProviderClass's tenantId and left each pod mounting a secret in ContainerCreating; KeyVault's own
    # tenant_id and vault_name inputs take the same rules
    "VaultHandle": {"tenant_id": _name(GUID), "vault_name": _name(key_vault)}}


def _unknown_key(value: Mapping[Any, Any], key: Any, spec: type, in_handle: bool) -> str:
    """Why `key` of `value` (a `spec`) is refused. In a handle, whose value may be another stack's (a StackReference's
    output in the component provider's shape, its schema names read as Python's: `python_named`), the key's value
    is named too, and so are both spellings of a field given twice."""
    fields = spec.__annotations__
    meant = schema_names(spec).get(key) if in_handle and isinstance(key, str) else None
    if meant is not None and meant in value:
        return (f"is {meant!r} again, as the component provider names it, given {_got(value[key])} beside "
                f"{_got(value[meant])}; give one of them")
    snake = _snake(str(key))
    shortened = any(f.startswith(f"{snake}_") for f in fields)  # `sku` for sku_name: its own input, cut short
    elsewhere = None if in_handle or snake in fields or shortened else _input_elsewhere(snake, spec)
    if elsewhere:
        return f"is not an input; {elsewhere}"
    listed = "inputs (or each as the component provider names it, camelCase)" if in_handle else "inputs"
    why = "is not an input; " + nearest_or_all(str(key), fields, listed, near=snake if snake in fields else None)
    return f"{why}; given {_got(value[key])}" if in_handle else why


def _input_elsewhere(key: str, spec: type) -> Optional[str]:
    """Where an input a component does not take belongs, when it is a field of one of its own specs
    (`system_pool.vm_size` given as AksCluster's `vm_size`) or another component's input (AzureMonitoring's
    `alert_emails` given to Observability, whose page names the stack key `observability.alertEmails`): a near
    spelling of one of its own inputs was offered instead (`alert_receiver`), a different thing."""
    fields = spec.__annotations__
    specs = {name: _typeddict_of(hint) for name, hint in fields.items()}
    nested = [f"'{name}[0].{key}' (each item of {name})" if a_list else repr(f"{name}.{key}")
              for name, (inner, a_list) in specs.items()  # a handle's fields are another component's outputs
              if inner is not None and handed_out(inner) is None and key in inner.__annotations__]
    if nested:
        return "did you mean " + " or ".join(nested) + "?"
    import llmplatform  # the package's components, which import this module
    own = spec.__name__.removesuffix("Args")
    if own not in llmplatform.COMPONENTS:
        return None
    others = [name for name in llmplatform.COMPONENTS if name != own
              and key in getattr(getattr(llmplatform, f"{name}Args", None), "__annotations__", {})]
    if not others:
        return None
    return (f"it is an input of {', '.join(others[:-1]) + ' or ' if len(others) > 1 else ''}{others[-1]}, not of "
            f"{own}")


def _shape(value: Any, spec: type, path: str, problems: list[tuple[str, str]],
           typed: list[tuple[str, str]], in_handle: bool = False) -> None:
    """Shape problems of `value` as a `spec`; `in_handle`: it is (inside) a handle, whose plain fields may arrive
    as outputs (from another language, or a handle given as one output)."""
    in_handle = in_handle or handed_out(spec) is not None
    if is_output(value):
        return
    if isinstance(value, pulumi.Resource):
        problems.append((path, component_given(value, spec)))
        return
    if not isinstance(value, dict):
        problems.append((path, f"expects an object ({spec.__name__}), got {_got(value)}"))
        return
    other = other_handle(value, spec)
    if other is not None:
        problems.append((path, f"expects a {_named(spec)}, got a {_named(other)}"))
        return
    fields = spec.__annotations__
    for key in value:
        if key not in fields:
            problems.append((f"{path}.{key}" if path else str(key), _unknown_key(value, key, spec, in_handle)))
    for key in sorted(spec.__required_keys__):  # type: ignore[attr-defined]
        if value.get(key) is None and not any(_snake(str(k)) == key and value[k] is not None for k in value):
            problems.append((f"{path}.{key}" if path else key, "is required"))
    for key, rule in HANDLE_VALUE_RULES.get(spec.__name__, {}).items():
        item = value.get(key)
        wrong = None if item is None or is_output(item) else rule(item)
        if wrong:
            problems.append((f"{path}.{key}" if path else key, _invalid(item, wrong)))
    for key, item in value.items():
        if key not in fields or item is None:
            continue
        inner, is_list = _typeddict_of(fields[key])
        where = f"{path}.{key}" if path else key
        if inner is None:
            # an Output is refused in an input annotated as a plain value, a spec's field too (the code reads them
            # when the program runs: a pool's priority, a member's name); the component provider hands such a field
            # over plain once its value is known (`plain` in the schema). A handle's fields arrive as outputs from
            # another language, where the code that reads them copes (handles.known)
            wrong = _plain_value_problem(item, fields[key], outputs_allowed=in_handle)
            if wrong:
                typed.append((where, wrong))
            # so is an output among the items of a list or map of plain values (`models`, `extra_env`): those the
            # component passes on into resources are annotated pulumi.Input (tags, alert e-mails)
            problems.extend([] if in_handle else _output_items(item, fields[key], where))
            continue
        if is_output(item) and not handed_out(inner) and not _output_allowed(fields[key]):
            # a spec the component shapes resources from (a pool's name, one origin each) is read when the program
            # runs: only its fields may be outputs
            problems.append((where, f"must be {'a list' if is_list else 'an object'} written in the program, not "
                                    "an Output: the component builds resources from it when the program runs"))
            continue
        if is_list:
            if is_output(item):
                continue
            if not isinstance(item, (list, tuple)):
                problems.append((where, f"expects a list of {inner.__name__}, got {type(item).__name__}"))
                continue
            for i, element in enumerate(item):
                if is_output(element) and not in_handle and not handed_out(inner) and not _output_allowed(fields[key]):
                    # one origin, one member each: an item's name names its resources (an output's text is "Calling
                    # __str__ on an Output[T]...")
                    problems.append((f"{where}[{i}]", "must be an object written in the program, not an Output: the "
                                                      "component builds resources from it when the program runs"))
                    continue
                _shape(element, inner, f"{where}[{i}]", problems, typed, in_handle)
        else:
            _shape(item, inner, where, problems, typed, in_handle)
