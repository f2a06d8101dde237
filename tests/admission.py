"""What the other admission control the installed charts and bundles register refuses, over a plan's objects and the
objects its Helm releases render (tests/webhooks.py has KEDA's and prometheus-operator's webhooks). Each refusal is
"<Kind> <namespace>/<name>: <rule>: <reason>", the rule named after the upstream function or policy. The admission
configurations relied on are vendored under tests/upstream/admission/ (tests/upstream/SOURCES.md); what registers
nothing is in docs/decisions.md (2026-12-03, "Admission control beyond KEDA and prometheus-operator").

- Istio 1.30.3 (56df41f6): istio-base's `istiod-default-validator` (`validation.istio.io`, rendered as the release
  sets `defaultRevision: default`) sends every CREATE/UPDATE in the four Istio groups, with no object selector, to
  istiod's /validate (`pkg/webhooks/validation/server/server.go` validate: checkFields, then the kind's
  ValidateProto from `pkg/config/validation/validation.go`, `agent/validation.go`, `pkg/config/security/security.go`).
  istiod's own `rev.validation.istio.io` selects only objects labelled `istio.io/rev`. The charts'
  `stable-channel*` ValidatingAdmissionPolicies render only with `experimental.stableValidationPolicy` (false).
- cert-manager v1.21.1 (24e33194): `webhook.cert-manager.io` (failurePolicy Fail) over cert-manager.io and
  acme.cert-manager.io: `internal/apis/certmanager/validation/{certificate,issuer,clusterissuer}.go`.
- Gateway API v1.6.1 (8bb74df0): standard-install's ValidatingAdmissionPolicy `safe-upgrades.gateway.networking.k8s.io`
  over CustomResourceDefinitions (`config/crd/standard/gateway.networking.k8s.io_vap_safeupgrades.yaml`).
Only the rules our objects can reach are coded; a kind, or a field, of these groups that the rules here do not cover
is reported as "(not modelled)" so that a new object cannot pass unchecked.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import jsonschema
import yaml

from offline.deploy_model.charts import chart_name, chart_values
from offline.plan import manifests

from tests.validation import CelRuleViolation, validate_custom, vendored_documents, with_defaults
from tests.webhooks import _key, scaled_object_refusals

ISTIO_GROUPS = ("security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io")
# pkg/config/schema/collections/collections.gen.go: the kinds istiod has a schema (and a ValidateProto) for
ISTIO_KINDS = ("AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "DestinationRule", "EnvoyFilter",
               "Gateway", "ProxyConfig", "ServiceEntry", "Sidecar", "VirtualService", "WorkloadEntry", "WorkloadGroup",
               "Telemetry", "WasmPlugin", "TrafficExtension")
CERT_MANAGER_GROUPS = ("cert-manager.io", "acme.cert-manager.io")
NOT_MODELLED = "(not modelled)"


def _group(obj: dict[str, Any]) -> str:
    api_version = obj.get("apiVersion", "")
    return api_version.split("/")[0] if "/" in api_version else ""


# --- Istio: server.go validate -> validateMetadata -> ValidateProto; then checkFields ------------------------------

DNS1123_LABEL = re.compile(r"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$")  # pkg/config/labels/instance.go
WILDCARD_LABEL = re.compile(r"^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$")
VALID_LITERAL = re.compile(r"^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$")  # security.go validLiteral (RFC 3986 pchar)
DRY_RUN = "istio.io/dry-run"  # istio/api annotation IoIstioDryRun
ALWAYS_REJECT = "internal.istio.io/webhook-always-reject"  # pkg/config/constants AlwaysReject
INTERNAL_PARENTS = ("internal.istio.io/parent-namespace", "internal.istio.io/parents")
# validation.go allowedTargetRefs (group, kind): Service, ServiceEntry, Gateway API Gateway and GatewayClass
TARGET_REFS = {("", "Service"), ("networking.istio.io", "ServiceEntry"), ("gateway.networking.k8s.io", "Gateway"),
               ("gateway.networking.k8s.io", "GatewayClass")}
SOURCE_FIELDS = ("principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "notPrincipals",
                 "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks", "serviceAccounts",
                 "notServiceAccounts", "trustDomains", "notTrustDomains")
OPERATION_FIELDS = ("ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts")
# security.go ValidateAttribute: the `when` keys it accepts (a prefix ending in "[" takes a[b])
WHEN_KEYS = ("source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal",
             "source.trustDomain", "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
             "destination.ip", "destination.port", "connection.sni")
WHEN_MAP_KEYS = ("request.headers", "request.auth.claims", "experimental.envoy.filters.")


def _ips(values: Iterable[str]) -> Iterator[str]:
    """security.go ValidateIPs (netip.ParsePrefix / ParseAddr)."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False) if "/" in value else ipaddress.ip_address(value)
        except ValueError:
            yield f"bad CIDR range ({value})" if "/" in value else f"bad IP address ({value})"


def _ports(values: Iterable[str]) -> Iterator[str]:
    """security.go ValidatePorts."""
    yield from (f"bad port ({p})" for p in values if not str(p).isdigit() or int(p) > 65535)


def _empty(name: str, values: Iterable[str]) -> Iterator[str]:
    """security.go CheckEmptyValues."""
    if any(v == "" for v in values):
        yield f"empty value not allowed, found in {name}"


def _wildcards(name: str, values: list[str]) -> Iterator[str]:
    """security.go CheckWildcardValues."""
    yield from _empty(name, values)
    for value in values:
        if value.count("*") > 1:
            yield f"at most one wildcard is allowed, found in {name}: {value!r}"
        elif "*" in value and value != "*" and not value.startswith("*") and not value.endswith("*"):
            yield f"wildcard is only allowed at the start or end, found in {name}: {value!r}"


def _service_accounts(name: str, values: list[str]) -> Iterator[str]:
    """security.go CheckServiceAccount."""
    if len(values) > 16:
        yield "may not have more than 16 values"
    for value in values:
        if value == "" or "*" in value or value.count("/") > 1 or len(value) > 320 or "" in value.split("/"):
            yield f"invalid service account {value!r} in {name}: 'serviceAccount' or 'namespace/serviceAccount'"


def _path_templates(name: str, paths: list[str]) -> Iterator[str]:
    """security.go CheckValidPathTemplate: {*} and {**} (last) only, literal segments then RFC 3986 pchars."""
    for path in paths:
        templated, any_seen = "{*}" in path or "{**}" in path, False
        for glob in path.strip("/").split("/"):
            if glob == "{*}" and not any_seen:
                continue
            if glob == "{**}" and not any_seen:
                any_seen = True
                continue
            if glob in ("{*}", "{**}"):
                yield f"invalid or unsupported path {path}, found in {name}. {{**}} is not the last operator"
                break
            if "{" in glob or "}" in glob:
                yield (f"invalid or unsupported path {path}, found in {name}. Contains '{{' or '}}' beyond a "
                       "supported path template")
                break
            if templated and not VALID_LITERAL.match(glob):
                yield f"invalid or unsupported path {path}, found in {name}. Contains segment {glob} with invalid literal"
                break


def _attribute(key: str, values: list[str]) -> Iterator[str]:
    """security.go ValidateAttribute."""
    yield from _empty(key, values)
    if key.startswith(WHEN_MAP_KEYS):
        opening = key.find("[")
        if not (key.endswith("]") and 0 < opening < len(key) - 2):
            yield f"bad key ({key}): should have format a[b]"
    elif key in ("source.ip", "remote.ip", "destination.ip"):
        yield from _ips(values)
    elif key == "source.serviceAccount":
        yield from _service_accounts(key, values)
    elif key == "source.trustDomain":
        yield from _wildcards(key, values)
    elif key == "destination.port":
        yield from _ports(values)
    elif key not in WHEN_KEYS:
        yield f"unknown attribute: {key}"  # destination.namespace/labels/name/user included: replaced or v1alpha1


def _target_refs(spec: dict[str, Any]) -> Iterator[str]:
    """validation.go validatePolicyTargetReference, for targetRef and each of targetRefs."""
    for ref in [*([spec["targetRef"]] if spec.get("targetRef") else []), *(spec.get("targetRefs") or [])]:
        if not ref.get("name"):
            yield "targetRef name must be set"
        if ref.get("namespace"):
            yield "targetRef namespace must not be set; cross namespace referencing is not supported"
        if (ref.get("group", ""), ref.get("kind", "")) not in TARGET_REFS:
            yield f"targetRef must be to one of {sorted(TARGET_REFS)} but was {ref.get('group', '')}/{ref.get('kind')}"


def _selector(selector: Optional[dict[str, Any]]) -> Iterator[str]:
    """validation.go validateWorkloadSelector (its errors; an empty selector is only a warning)."""
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        if key == "":
            yield f"empty key is not supported in selector: {key}={value}"
        if "*" in key or "*" in str(value):
            yield f"wildcard is not supported in selector: {key}={value}"


def _authorization_policy(obj: dict[str, Any]) -> Iterator[str]:
    """validation.go ValidateAuthorizationPolicy. A JSON empty list decodes to a nil Go slice (protojson), so the
    "`from`/`to` must not be empty" branches cannot be reached from a manifest and are left out."""
    spec = obj.get("spec") or {}
    action, rules = spec.get("action", "ALLOW"), spec.get("rules")
    if sum(1 for k in ("selector", "targetRef", "targetRefs") if spec.get(k)) > 1:
        yield "only one of targetRefs or workloadSelector can be set"
    yield from _selector(spec.get("selector"))
    yield from _target_refs(spec)
    if action == "CUSTOM":
        if not rules:
            yield "CUSTOM action without `rules` is meaningless as it will never be triggered"
        elif not (spec.get("provider") or {}).get("name"):
            yield "`provider.name` must not be empty"
        for rule in rules or []:
            for source in (f.get("source") or {} for f in rule.get("from") or []):
                yield from (f"From.{k[0].upper()}{k[1:]} is currently not supported with CUSTOM action"
                            for k in SOURCE_FIELDS if source.get(k) and k not in ("ipBlocks", "remoteIpBlocks",
                                                                                  "notIpBlocks", "notRemoteIpBlocks"))
            for key in (w.get("key", "") for w in rule.get("when") or []):
                if key in ("source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal") \
                        or key.startswith("request.auth."):
                    yield f"{key} is currently not supported with CUSTOM action"
    if spec.get("provider") is not None and action != "CUSTOM":
        yield f"`provider` must not be with non CUSTOM action, found {action}"
    if action == "DENY" and not rules:
        yield "DENY action without `rules` is meaningless as it will never be triggered"
    for i, rule in enumerate(rules or []):
        if rule is None:
            yield f"`rule` must not be nil, found at rule {i}"
            continue
        for source in (f.get("source") for f in rule.get("from") or []):
            if source is None:
                yield f"`from.source` must not be nil, found at rule {i}"
                continue
            if any(source.get(k) for k in ("principals", "notPrincipals", "namespaces", "notNamespaces")) and any(
                    source.get(k) for k in ("serviceAccounts", "notServiceAccounts")):
                yield f"cannot set serviceAccounts with namespaces or principals, found at rule {i}"
            if not any(source.get(k) for k in SOURCE_FIELDS):
                yield f"`from.source` must not be empty, found at rule {i}"
            for name in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
                yield from _ips(source.get(name) or [])
            for name in SOURCE_FIELDS:
                values = source.get(name) or []
                if name.lower().endswith("serviceaccounts"):
                    yield from _service_accounts(name, values)
                elif name.lower().endswith("trustdomains"):
                    yield from _wildcards(name, values)
                    yield from (f"trust domain must not contain '/', found in {name}: {v!r}" for v in values if "/" in v)
                else:
                    yield from _empty(name, values)
        for operation in (t.get("operation") for t in rule.get("to") or []):
            if operation is None:
                yield f"`to.operation` must not be nil, found at rule {i}"
                continue
            if not any(operation.get(k) for k in OPERATION_FIELDS):
                yield f"`to.operation` must not be empty, found at rule {i}"
            yield from _ports([*(operation.get("ports") or []), *(operation.get("notPorts") or [])])
            for name in OPERATION_FIELDS:
                yield from _empty(name[0].upper() + name[1:], operation.get(name) or [])
            for name in ("paths", "notPaths"):
                yield from _path_templates(name[0].upper() + name[1:], operation.get(name) or [])
        for condition in rule.get("when") or []:
            key = condition.get("key", "")
            if not key:
                yield "`key` must not be empty"
            elif not condition.get("values") and not condition.get("notValues"):
                yield f"at least one of `values` or `notValues` must be set for key {key}"
            else:
                yield from (f"invalid `value` for `key` {key}: {p}" for p in _attribute(key, condition.get("values") or []))
                yield from (f"invalid `notValue` for `key` {key}: {p}"
                            for p in _attribute(key, condition.get("notValues") or []))


def _wildcard_domain(domain: str) -> Iterator[str]:
    """agent/validation.go ValidateWildcardDomain: a wildcard only in the first label, DNS-1123 labels after it."""
    if not domain or len(domain) > 255:
        yield f"domain name {domain!r} is empty or longer than 255"
        return
    first, _, rest = domain.partition(".")
    if not WILDCARD_LABEL.match(first):
        yield f"domain name {domain!r} invalid (label {first!r} invalid)"
    elif rest:
        labels = rest.split(".")
        if labels[-1].isdigit():
            yield f"domain name {domain!r} invalid (top level domain {labels[-1]!r} cannot be all-numeric)"
        bad = next((label for i, label in enumerate(labels) if not (i == len(labels) - 1 and label == "")
                    and not (len(label) <= 63 and DNS1123_LABEL.match(label))), None)
        if bad is not None:
            yield f"domain name {domain!r} invalid (label {bad!r} invalid)"


def _duration(value: str) -> Iterator[str]:
    """agent/validation.go ValidateDuration: at least 1ms, whole milliseconds (protobuf Duration strings: "<s>s")."""
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)s", str(value))
    seconds = float(match.group(1)) if match else 0.0
    if seconds < 0.001:
        yield "duration must be greater than 1ms"
    elif round(seconds * 1000, 6) != int(round(seconds * 1000, 6)):
        yield "only durations to ms precision are supported"


TRAFFIC_POLICY_MODELLED = ("tls", "connectionPool")


def _traffic_policy(namespace: str, policy: Optional[dict[str, Any]]) -> Iterator[str]:
    """validation.go validateTrafficPolicy: validateConnectionPool and agent.ValidateTLS."""
    if policy is None:
        return
    if not any(policy.get(k) is not None for k in ("outlierDetection", "connectionPool", "loadBalancer", "tls",
                                                   "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget")):
        yield "traffic policy must have at least one field"
        return
    yield from (f"{NOT_MODELLED} trafficPolicy.{k}" for k in policy if k not in TRAFFIC_POLICY_MODELLED)
    pool = policy.get("connectionPool")
    if pool is not None:
        http, tcp = pool.get("http"), pool.get("tcp")
        if http is None and tcp is None:
            yield "connection pool must have at least one field"
        for section, fields in ((http or {}, ("http1MaxPendingRequests", "http2MaxRequests",
                                               "maxRequestsPerConnection", "maxRetries", "maxConcurrentStreams")),
                                (tcp or {}, ("maxConnections",))):
            yield from (f"{f} must be non-negative" for f in fields if int(section.get(f, 0)) < 0)
        for duration in [(http or {}).get("idleTimeout"), *((tcp or {}).get(k) for k in (
                "connectTimeout", "maxConnectionDuration")), *((tcp or {}).get("tcpKeepalive") or {}).values()]:
            if duration is not None and re.fullmatch(r"-?[\d.]+s", str(duration)):
                yield from _duration(duration)
        if (http or {}).get("h2UpgradePolicy") == "UPGRADE" and (http or {}).get("useClientProtocol"):
            yield "use client protocol must not be true when H2UpgradePolicy is UPGRADE"
    tls = policy.get("tls")  # an empty JSON list decodes to a nil slice: `subjectAltNames: []` is none
    if tls is not None:
        mode, credential = tls.get("mode", "DISABLE"), tls.get("credentialName", "")
        if credential.startswith("configmap://") and credential[len("configmap://"):].count("/") and \
                credential[len("configmap://"):].split("/")[0] != namespace:
            yield f"invalid configmap:// credentialName: namespace must match the configuration namespace {namespace!r}"
        if tls.get("insecureSkipVerify") and mode == "SIMPLE" and (
                tls.get("caCertificates") or credential or tls.get("subjectAltNames")):
            yield "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"
        if tls.get("insecureSkipVerify") and mode == "MUTUAL" and (
                tls.get("caCertificates") or tls.get("subjectAltNames")):
            yield "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"
        if mode in ("SIMPLE", "MUTUAL") and credential:
            if any(tls.get(k) for k in ("clientCertificate", "caCertificates", "privateKey", "caCrl")):
                yield "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"
        elif mode == "MUTUAL":
            yield from (f"{what} required for mutual tls" for what, k in (("client certificate", "clientCertificate"),
                                                                          ("private key", "privateKey"))
                        if not tls.get(k))


def _destination_rule(obj: dict[str, Any]) -> Iterator[str]:
    """validation.go ValidateDestinationRule: the host and the traffic policy (subsets, exportTo and
    workloadSelector are not modelled)."""
    spec = obj.get("spec") or {}
    yield from (f"{NOT_MODELLED} spec.{k}" for k in spec if k not in ("host", "trafficPolicy"))
    yield from _wildcard_domain(spec.get("host", ""))
    yield from _traffic_policy((obj.get("metadata") or {}).get("namespace", ""), spec.get("trafficPolicy"))


def _peer_authentication(obj: dict[str, Any]) -> Iterator[str]:
    """validation.go ValidatePeerAuthentication."""
    spec = obj.get("spec") or {}
    ports = spec.get("portLevelMtls")
    if not ((spec.get("selector") or {}).get("matchLabels")) and ports:
        yield "mesh/namespace peer authentication cannot have port level mTLS"
    yield from ("port must be in range 1..65535" for p in ports or {} if not 0 < int(p) <= 65535)
    yield from _selector(spec.get("selector"))


ISTIO_VALIDATORS = {"AuthorizationPolicy": ("ValidateAuthorizationPolicy", _authorization_policy),
                    "DestinationRule": ("ValidateDestinationRule", _destination_rule),
                    "PeerAuthentication": ("ValidatePeerAuthentication", _peer_authentication)}


def _istio_metadata(obj: dict[str, Any]) -> Iterator[str]:
    """validation.go validateMetadata / checkDryRunAnnotation."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if DRY_RUN in annotations:
        action = (obj.get("spec") or {}).get("action", "ALLOW")
        if obj["kind"] != "AuthorizationPolicy":
            yield f"{meta.get('namespace')}/{meta.get('name')} has unsupported annotation {DRY_RUN}"
        elif action not in ("ALLOW", "DENY"):
            yield f"the annotation {DRY_RUN} currently only supports action ALLOW/DENY, found action {action}"
        elif str(annotations[DRY_RUN]).lower() not in ("1", "t", "true", "0", "f", "false"):  # strconv.ParseBool
            yield f"annotation {DRY_RUN} with invalid value ({annotations[DRY_RUN]})"
    yield from (f"{a!r} annotation found, rejecting" for a in (ALWAYS_REJECT,) if a in annotations)
    yield from (f"{a!r} annotation found, this may not be set by users" for a in INTERNAL_PARENTS if a in annotations)


def istio_refusals(obj: dict[str, Any]) -> list[str]:
    """What istiod's validation webhook answers a create or update of `obj` (nothing outside the Istio groups)."""
    if _group(obj) not in ISTIO_GROUPS:
        return []
    kind = obj["kind"]
    if kind not in ISTIO_KINDS:
        return [f"{_key(obj)}: validate: unrecognized type {obj.get('apiVersion')}, Kind={kind}"]
    if kind not in ISTIO_VALIDATORS:
        return [f"{_key(obj)}: {NOT_MODELLED}: no rules of istio 1.30.3 for {kind} are coded here"]
    rule, check = ISTIO_VALIDATORS[kind]
    out = [f"{_key(obj)}: validateMetadata: {p}" for p in _istio_metadata(obj)]
    out += [f"{_key(obj)}: {rule}: {p}" for p in check(obj)]
    out += [f"{_key(obj)}: checkFields: unknown field {k!r}" for k in obj
            if k not in ("apiVersion", "kind", "metadata", "spec", "status")]
    return out


def istio_stable_policy_refusals(obj: dict[str, Any]) -> list[str]:
    """The validations of the charts' stable-channel ValidatingAdmissionPolicy (base
    `templates/defaultrevision-validatingadmissionpolicy.yaml`), applied only where a release renders it."""
    if _group(obj) not in ISTIO_GROUPS:
        return []
    spec, kind = obj.get("spec") or {}, obj["kind"]
    broken = [f"{kind} is not of the stable channel" for k in ("EnvoyFilter", "WasmPlugin", "ProxyConfig") if k == kind]
    if kind == "Telemetry" and any(f in item for part, f in (("tracing", "useRequestIdForTraceSampling"), (
            "metrics", "reportingInterval"), ("accessLogging", "filter")) for item in spec.get(part) or []):
        broken.append("Telemetry uses a field outside the stable channel")
    if kind == "AuthorizationPolicy" and any(
            k in (f.get("source") or {}) for r in spec.get("rules") or [] for f in r.get("from") or []
            for k in ("trustDomains", "notTrustDomains")):
        broken.append("AuthorizationPolicy source.trustDomains/notTrustDomains are outside the stable channel")
    return [f"{_key(obj)}: stable-channel-default-policy.istio.io: {b}" for b in broken]


def istio_stable_policy_rendered(plan: Any) -> bool:
    """Whether the plan's istio-base release renders the stable-channel policy that matches every object
    (`experimental.stableValidationPolicy` and a defaultRevision; istiod's own selects istio.io/rev objects)."""
    for release in plan.helm_releases():
        if chart_name(release.inputs) == "base":
            values = chart_values(release.inputs)
            if (values.get("experimental") or {}).get("stableValidationPolicy") and values.get("defaultRevision"):
                return True
    return False


# --- cert-manager: internal/apis/certmanager/validation ----------------------------------------------------------

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ISSUER_TYPES = ("acme", "ca", "selfSigned", "vault", "venafi")
SIGNATURES = {"RSA": ("SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"),
              "ECDSA": ("ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"), "Ed25519": ("PureEd25519",)}
SERVICE_TYPES = ("", "ClusterIP", "NodePort")
MIN_RSA, MAX_RSA = 2048, 8192  # pkg/util/pki MinRSAKeySize, MaxRSAKeySize
CERTIFICATE_MODELLED = ("secretName", "issuerRef", "commonName", "dnsNames", "uris", "emailAddresses", "ipAddresses",
                        "privateKey", "signatureAlgorithm", "revisionHistoryLimit", "duration", "renewBefore")


def _certificate(spec: dict[str, Any]) -> Iterator[str]:
    """certificate.go ValidateCertificateSpec (literalSubject, otherNames, usages, keystores, nameConstraints,
    secretTemplate, additionalOutputFormats and renewal are not modelled)."""
    yield from (f"{NOT_MODELLED} spec.{k}" for k in spec if k not in CERTIFICATE_MODELLED)
    secret = spec.get("secretName", "")
    if not secret:
        yield "spec.secretName: Required value: must be specified"
    elif len(secret) > 253 or not DNS_SUBDOMAIN.match(secret):
        yield f"spec.secretName: Invalid value: {secret!r}: not a DNS-1123 subdomain"
    ref = spec.get("issuerRef") or {}
    if not ref.get("name"):
        yield "spec.issuerRef.name: Required value: must be specified"
    if ref.get("group", "") in ("", "cert-manager.io") and ref.get("kind", "") not in ("", "Issuer", "ClusterIssuer"):
        yield f"spec.issuerRef.kind: Invalid value: {ref.get('kind')!r}: must be one of Issuer or ClusterIssuer"
    if not any(spec.get(k) for k in ("commonName", "dnsNames", "uris", "emailAddresses", "ipAddresses")):
        yield "spec: at least one of commonName, dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set"
    if len(spec.get("commonName", "")) > 64:
        yield "spec.commonName: Too long: may not be more than 64 bytes"
    for address in spec.get("ipAddresses") or []:
        yield from (f"spec.ipAddresses: Invalid value: {address!r}: invalid IP address" for _ in _ips([address]))
    for email in spec.get("emailAddresses") or []:
        if not re.fullmatch(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+", email):  # net/mail ParseAddress, bare only
            yield f"spec.emailAddresses: Invalid value: {email!r}: invalid email address"
    key = spec.get("privateKey") or {}
    algorithm, size = key.get("algorithm", ""), int(key.get("size") or 0)
    if algorithm in ("", "RSA") and size > 0 and not MIN_RSA <= size <= MAX_RSA:
        yield f"spec.privateKey.size: Invalid value: {size}: must be between {MIN_RSA} and {MAX_RSA} for rsa keyAlgorithm"
    elif algorithm == "ECDSA" and size > 0 and size not in (256, 384, 521):
        yield f'spec.privateKey.size: Unsupported value: {size}: supported values: "256", "384", "521"'
    elif algorithm not in ("", "RSA", "ECDSA", "Ed25519"):
        yield f"spec.privateKey.algorithm: Invalid value: {algorithm!r}: must be either empty or one of rsa, ecdsa or ed25519"
    signature = spec.get("signatureAlgorithm", "")
    if signature and algorithm in ("", *SIGNATURES) and signature not in SIGNATURES[algorithm or "RSA"]:
        yield f"spec.signatureAlgorithm: Invalid value: {signature!r}: not allowed for key algorithm {algorithm or 'RSA'}"
    if spec.get("revisionHistoryLimit") is not None and spec["revisionHistoryLimit"] < 1:
        yield "spec.revisionHistoryLimit: Invalid value: must not be less than 1"
    if spec.get("duration") is not None or spec.get("renewBefore") is not None:
        yield f"{NOT_MODELLED} spec.duration/renewBefore (ValidateDuration)"


def _acme(acme: dict[str, Any]) -> Iterator[str]:
    """issuer.go ValidateACMEIssuerConfig and its solvers' (dns01 providers are not modelled). Nothing here reads
    `email`: the webhook accepts any, and a wrong address fails at the ACME account's registration."""
    if acme.get("caBundle") and acme.get("skipTLSVerify"):
        yield "spec.acme.caBundle: caBundle and skipTLSVerify are mutually exclusive and cannot both be set"
    if not (acme.get("privateKeySecretRef") or {}).get("name"):
        yield "spec.acme.privateKeySecretRef.name: Required value: private key secret name is a required field"
    if not acme.get("server"):
        yield "spec.acme.server: Required value: acme server URL is a required field"
    eab = acme.get("externalAccountBinding")
    if eab is not None and not eab.get("keyID"):
        yield "spec.acme.externalAccountBinding.keyID: Required value"
    for i, solver in enumerate(acme.get("solvers") or []):
        where = f"spec.acme.solvers[{i}]"
        if solver.get("http01") is not None and solver.get("dns01") is not None:
            yield f"{where}: Forbidden: may not specify more than one solver type in a single solver"
        elif solver.get("http01") is None and solver.get("dns01") is None:
            yield f"{where}: Required value: no solver type configured"
        elif solver.get("dns01") is not None:
            yield f"{NOT_MODELLED} {where}.dns01"
        http01 = solver.get("http01") or {}
        if solver.get("http01") is not None:
            defined = [k for k in ("ingress", "gatewayHTTPRoute") if http01.get(k) is not None]
            if len(defined) != 1:
                yield f"{where}.http01: Required value: exactly one HTTP01 solver type must be configured"
            for solver_type in defined:
                config = http01[solver_type]
                if config.get("serviceType", "") not in SERVICE_TYPES:
                    yield f'{where}.http01: serviceType must be empty, "ClusterIP" or "NodePort"'
            ingress = http01.get("ingress") or {}
            if sum(1 for k in ("class", "ingressClassName", "name") if ingress.get(k)) > 1:
                yield f"{where}.http01.ingress: Forbidden: only one of 'ingressClassName', 'name' or 'class'"
            for j, parent in enumerate((http01.get("gatewayHTTPRoute") or {}).get("parentRefs") or []):
                if "kind" in parent and not parent.get("name"):
                    yield f"{where}.http01.gateway.parentRefs[{j}].name: Required value: name is required when kind is specified"
                    break
                if parent.get("name") and "kind" not in parent:
                    yield f"{where}.http01.gateway.parentRefs[{j}].kind: Required value: kind is required when name is specified"
                    break


def _issuer(spec: dict[str, Any]) -> Iterator[str]:
    """issuer.go ValidateIssuerConfig: exactly one issuer type (only ACME's rules are modelled)."""
    types = [k for k in ISSUER_TYPES if spec.get(k) is not None]
    if not types:
        yield "spec: Required value: at least one issuer must be configured"
    yield from (f"spec.{k}: Forbidden: may not specify more than one issuer type" for k in types[1:])
    if types and types[0] == "acme":
        yield from _acme(spec["acme"])
    elif types and types[0] != "selfSigned":
        yield f"{NOT_MODELLED} spec.{types[0]}"


def cert_manager_refusals(obj: dict[str, Any]) -> list[str]:
    """What cert-manager's webhook answers a create or update of `obj`."""
    if _group(obj) not in CERT_MANAGER_GROUPS:
        return []
    rules = {"Certificate": ("ValidateCertificate", _certificate), "Issuer": ("ValidateIssuer", _issuer),
             "ClusterIssuer": ("ValidateClusterIssuer", _issuer)}
    if obj["kind"] not in rules:
        return [f"{_key(obj)}: {NOT_MODELLED}: no rules of cert-manager v1.21.1 for {obj['kind']} are coded here"]
    rule, check = rules[obj["kind"]]
    return [f"{_key(obj)}: {rule}: {p}" for p in check(obj.get("spec") or {})]


# --- Gateway API v1.6.1 safe-upgrades ValidatingAdmissionPolicy --------------------------------------------------

BUNDLE_VERSION, CHANNEL = "gateway.networking.k8s.io/bundle-version", "gateway.networking.k8s.io/channel"


def safe_upgrades_refusals(crd: dict[str, Any], old: Optional[dict[str, Any]] = None) -> list[str]:
    """The policy's two CEL validations over a CustomResourceDefinition create (old None) or update. CEL `matches`
    is an RE2 search; the policy's 'v1.[0-5].\\d+' refuses v1.5.x too, its `[0-5]` holding 5."""
    if crd.get("kind") != "CustomResourceDefinition" or (crd.get("spec") or {}).get("group") != \
            "gateway.networking.k8s.io":
        return []
    annotations = (crd.get("metadata") or {}).get("annotations") or {}
    old_annotations = ((old or {}).get("metadata") or {}).get("annotations") or {}
    out = []
    if old is not None and annotations.get(CHANNEL) != "standard" and old_annotations.get(CHANNEL) != "experimental":
        out.append("Installing experimental CRDs on top of standard channel CRDs is prohibited by default.")
    version = annotations.get(BUNDLE_VERSION)
    if version is None or not (re.search(r"-(rc)", version) or (
            not re.search(r"v1.[0-5].\d+", version) and not re.search(r"v0", version))):
        out.append("Installing CRDs with version before v1.5.0 is prohibited by default.")
    return [f"CustomResourceDefinition {crd['metadata']['name']}: safe-upgrades.gateway.networking.k8s.io: {r}"
            for r in out]


# --- objects the plan's Helm releases render (transcribed templates) --------------------------------------------

class Read:
    """A release's values (the chart's defaults with the release's over them), recording each dotted path a
    transcription reads: a test compares them with the `.Values` paths of the vendored template, so a value we set
    that flows into a field the transcription skips is noticed."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values, self.paths = values, set()

    def __call__(self, path: str, default: Any = None) -> Any:
        self.paths.add(path)
        node: Any = self.values
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return default if node is None else node


def _plain(value: Any) -> Any:
    """An unquoted `{{ value }}` as the YAML of the manifest reads it back (Helm prints a missing value as nothing:
    null, which the API server prunes from a structural schema's object)."""
    return _scalar(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=None)
def _scalar(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader) if text else None


def _pruned(node: Any) -> Any:
    """Null fields dropped, as the API server does for a CRD field that is not `nullable` (Kubernetes docs,
    "Defaulting and Nullable")."""
    if isinstance(node, dict):
        return {k: _pruned(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_pruned(v) for v in node]
    return node


def _truthy(v: Read, path: str, key: Optional[str] = None, transform: Any = None) -> dict[str, Any]:
    """`{{- if .Values.<path> }} key: {{ .Values.<path> }}{{- end }}` (key: the path's last part)."""
    value = v(path)
    if not value:
        return {}
    return {key or path.rsplit(".", 1)[-1]: transform(value) if transform else value}


def _router_gateway(v: Read, name: str, namespace: str) -> list[dict[str, Any]]:
    """llm-d-router-gateway v0.10.0: `templates/istio.yaml` (a DestinationRule when provider.name is istio) and
    routerlib's `templates/_inferencepool.yaml` (unless router.inferencePool.create is false); the endpoint picker's
    name is routerlib `_helpers.tpl` llm-d-router.name."""
    out: list[dict[str, Any]] = []
    epp = (name or "default-pool").lower().strip()[:40] + "-epp"
    if v("provider.name") == "istio":
        pool = v("provider.istio.destinationRule.trafficPolicy.connectionPool")
        out.append({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
                    "metadata": {"name": epp, "namespace": namespace},
                    "spec": {"host": v("provider.istio.destinationRule.host") or f"{epp}.{namespace}.svc.cluster.local",
                             "trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": True},
                                               **({"connectionPool": pool} if pool else {})}}})
    if v("router.inferencePool.create") is not False:
        protocol = v("router.modelServers.protocol")
        out.append({"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": _pruned({
                        "targetPorts": [{"number": p.get("number")} for p in v("router.modelServers.targetPorts", [])],
                        "appProtocol": {"grpc": "kubernetes.io/h2c", "http": "http"}.get(protocol),
                        "selector": {"matchLabels": {k: str(x) for k, x in
                                                     v("router.modelServers.matchLabels", {}).items()}},
                        "endpointPickerRef": {"name": epp, "port": {"number": v("router.epp.extProcPort") or 9002},
                                              "failureMode": v("router.inferencePool.failureMode") or "FailOpen"}})})
    return out


def _keda_http(v: Read, name: str, namespace: str) -> list[dict[str, Any]]:
    """keda-add-ons-http 0.15.0 `templates/interceptor/scaledobject.yaml` (the interceptor's ScaledObject)."""
    return [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
             "metadata": {"name": "keda-add-ons-http-interceptor", "namespace": namespace},
             "spec": {"minReplicaCount": v("interceptor.replicas.min"), "maxReplicaCount": v("interceptor.replicas.max"),
                      "pollingInterval": v("interceptor.scaledObject.pollingInterval"),
                      "scaleTargetRef": {"name": "keda-add-ons-http-interceptor", "kind": "Deployment"},
                      "triggers": [{"type": "external", "metadata": {
                          "scalerAddress": f"keda-add-ons-http-{v('scaler.service')}.{namespace}:"
                                           f"{v('scaler.grpcPort') or 9091}",
                          "interceptorTargetPendingRequests": str(v("scaler.pendingRequestsInterceptor") or 200)}}]}}]


def _image(v: Read, spec: str) -> str:
    """kube-prometheus-stack's image line: global.imageRegistry, else the image's registry; then repository, tag and
    sha (prometheus.yaml and alertmanager.yaml build it alike when a tag is set)."""
    registry = v("global.imageRegistry") or v(f"{spec}.image.registry")
    tag, sha = v(f"{spec}.image.tag"), v(f"{spec}.image.sha")
    return f"{registry}/{v(f'{spec}.image.repository')}" + (f":{tag}" if tag else "") + (f"@sha256:{sha}" if sha else "")


def _monitor_selector(v: Read, spec: str, name: str, release: str, nil_uses_helm: bool = True) -> dict[str, Any]:
    """`<name>Selector`: the values' own, else `release: <release>` when <name>SelectorNilUsesHelmValues, else {}."""
    given = v(f"{spec}.{name}Selector")
    if given:
        return {f"{name}Selector": given}
    if nil_uses_helm and v(f"{spec}.{name}SelectorNilUsesHelmValues"):
        return {f"{name}Selector": {"matchLabels": {"release": release}}}
    return {f"{name}Selector": {}}


def _kube_prometheus_stack(v: Read, name: str, namespace: str) -> list[dict[str, Any]]:
    """kube-prometheus-stack 88.5.3 `templates/prometheus/prometheus.yaml` and `templates/alertmanager/alertmanager.yaml`
    (prometheus-community/helm-charts ea930bae): the fields every release renders and those our values reach (image
    through global.imageRegistry, nodeSelector, tolerations, resources, retention, storage, the selectors); not the
    labels, affinity (podAntiAffinity's helper-made terms) nor the fields the chart's defaults leave out. Names from
    `_helpers.tpl` (fullname: fullnameOverride truncated to 26, crname "<fullname>-prometheus")."""
    full = (v("fullnameOverride") or name)[:26].rstrip("-")  # a release named after the chart: fullname = name
    out: list[dict[str, Any]] = []
    ps, am = "prometheus.prometheusSpec", "alertmanager.alertmanagerSpec"
    if v("prometheus.enabled") and not v("prometheus.agentMode"):
        alerting = {}
        if not v(f"{ps}.disableAlerting") and (v(f"{ps}.alertingEndpoints") or v("alertmanager.enabled")):
            alerting = {"alerting": {"alertmanagers": v(f"{ps}.alertingEndpoints") or [_pruned({
                "namespace": namespace, "name": f"{full}-alertmanager", "port": v(f"{am}.portName"),
                "pathPrefix": v(f"{am}.routePrefix") or None, "scheme": v(f"{am}.scheme") or None,
                "tlsConfig": v(f"{am}.tlsConfig") or None, "apiVersion": v("alertmanager.apiVersion")})]}}
        spec = {
            **({"automountServiceAccountToken": v(f"{ps}.automountServiceAccountToken")}
               if v(f"{ps}.automountServiceAccountToken") is not None else {}),
            **alerting,
            **({"image": _image(v, ps), "imagePullPolicy": v(f"{ps}.image.pullPolicy"),
                "version": str(v(f"{ps}.version") or v(f"{ps}.image.tag"))} if v(f"{ps}.image") else {}),
            "externalUrl": v(f"{ps}.externalUrl") or f"http://{full}-prometheus.{namespace}:{v('prometheus.service.port')}",
            **_truthy(v, f"{ps}.nodeSelector"),
            "paused": v(f"{ps}.paused"), "replicas": v(f"{ps}.replicas"),
            **({"shards": v(f"{ps}.shards")} if v(f"{ps}.shards") is not None else {}),
            "logLevel": str(v(f"{ps}.logLevel", "")), "logFormat": _plain(v(f"{ps}.logFormat")),
            "listenLocal": v(f"{ps}.listenLocal"), "enableOTLPReceiver": v(f"{ps}.enableOTLPReceiver"),
            "enableAdminAPI": v(f"{ps}.enableAdminAPI"),
            **_truthy(v, f"{ps}.scrapeInterval", transform=_plain), **_truthy(v, f"{ps}.evaluationInterval", transform=_plain),
            **_truthy(v, f"{ps}.resources"),
            "retention": str(v(f"{ps}.retention", "")), **_truthy(v, f"{ps}.retentionSize", transform=str),
            "walCompression": v(f"{ps}.walCompression") is not False,
            **_truthy(v, f"{ps}.routePrefix", transform=str),
            "serviceAccountName": f"{full}-prometheus",
            **_monitor_selector(v, ps, "serviceMonitor", name), "serviceMonitorNamespaceSelector": v(
                f"{ps}.serviceMonitorNamespaceSelector") or {},
            **_monitor_selector(v, ps, "podMonitor", name), "podMonitorNamespaceSelector": v(
                f"{ps}.podMonitorNamespaceSelector") or {},
            **_monitor_selector(v, ps, "probe", name), "probeNamespaceSelector": v(f"{ps}.probeNamespaceSelector") or {},
            "ruleNamespaceSelector": v(f"{ps}.ruleNamespaceSelector") or {}, **_monitor_selector(v, ps, "rule", name),
            **_monitor_selector(v, ps, "scrapeConfig", name), "scrapeConfigNamespaceSelector": v(
                f"{ps}.scrapeConfigNamespaceSelector") or {},
            **_truthy(v, f"{ps}.securityContext"),
            **({"storage": v(f"{ps}.storageSpec")} if v(f"{ps}.storageSpec") else {}),
            **_truthy(v, f"{ps}.tolerations"), **_truthy(v, f"{ps}.topologySpreadConstraints"),
            **_truthy(v, f"{ps}.priorityClassName"),
            "portName": _plain(v(f"{ps}.portName")), "hostNetwork": v(f"{ps}.hostNetwork"),
            **_truthy(v, f"{ps}.shardingStrategy"), **_truthy(v, f"{ps}.shardRetentionPolicy"),
        }
        out.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                    "metadata": {"name": f"{full}-prometheus", "namespace": namespace}, "spec": _pruned(spec)})
    if v("alertmanager.enabled"):
        spec = {
            **({"image": _image(v, am), "imagePullPolicy": v(f"{am}.image.pullPolicy"),
                "version": str(v(f"{am}.version") or v(f"{am}.image.tag"))} if v(f"{am}.image") else {}),
            "replicas": v(f"{am}.replicas"), "listenLocal": v(f"{am}.listenLocal"),
            # _helpers.tpl `kube-prometheus-stack.alertmanager.serviceAccountName`
            "serviceAccountName": (v("alertmanager.serviceAccount.name") or f"{full}-alertmanager")
            if v("alertmanager.serviceAccount.create") else (v("alertmanager.serviceAccount.name") or "default"),
            "automountServiceAccountToken": v(f"{am}.automountServiceAccountToken"),
            **_truthy(v, f"{am}.podMetadata"), **_truthy(v, f"{am}.volumes"), **_truthy(v, f"{am}.volumeMounts"),
            "externalUrl": v(f"{am}.externalUrl") or f"http://{full}-alertmanager.{namespace}:"
                                                      f"{v('alertmanager.service.port')}",
            **_truthy(v, f"{am}.nodeSelector"),
            "paused": v(f"{am}.paused"), "logFormat": str(v(f"{am}.logFormat", "")),
            "logLevel": str(v(f"{am}.logLevel", "")), "retention": str(v(f"{am}.retention", "")),
            "alertmanagerConfigSelector": v(f"{am}.alertmanagerConfigSelector") or {},
            "alertmanagerConfigNamespaceSelector": v(f"{am}.alertmanagerConfigNamespaceSelector") or None,
            **_truthy(v, f"{am}.resources"), **_truthy(v, f"{am}.routePrefix", transform=str),
            **_truthy(v, f"{am}.securityContext"), **_truthy(v, f"{am}.storage"),
            **_truthy(v, f"{am}.tolerations"), **_truthy(v, f"{am}.topologySpreadConstraints"),
            **_truthy(v, f"{am}.priorityClassName"),
            "portName": _plain(v(f"{am}.portName")), "hostNetwork": v(f"{am}.hostNetwork"),
        }
        out.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager",
                    "metadata": {"name": f"{full}-alertmanager", "namespace": namespace}, "spec": _pruned(spec)})
    return out


# gpu-operator v26.7.0 `templates/clusterpolicy.yaml`: the operand sections, each with `enabled` and, when set, these
# fields (repository and image printed plain, version quoted, the rest through toYaml)
IMAGE_FIELDS = ("repository", "image", "version", "imagePullPolicy", "imagePullSecrets", "resources", "env", "args")
OPERANDS = {"validator": IMAGE_FIELDS, "vgpuManager": IMAGE_FIELDS, "kataManager": IMAGE_FIELDS,
            "vfioManager": IMAGE_FIELDS, "vgpuDeviceManager": IMAGE_FIELDS, "ccManager": IMAGE_FIELDS,
            "toolkit": IMAGE_FIELDS[:-1], "devicePlugin": IMAGE_FIELDS, "dcgm": IMAGE_FIELDS,
            "dcgmExporter": IMAGE_FIELDS, "gfd": IMAGE_FIELDS, "migManager": IMAGE_FIELDS,
            "nodeStatusExporter": IMAGE_FIELDS, "gds": ("repository", "image", "version", "imagePullPolicy",
                                                        "imagePullSecrets", "env", "args"),
            "sandboxDevicePlugin": IMAGE_FIELDS, "kataSandboxDevicePlugin": IMAGE_FIELDS}
OPERANDS["gdrcopy"] = OPERANDS["gds"]


def _image_fields(v: Read, section: str, fields: Iterable[str]) -> dict[str, Any]:
    out = {}
    for key in fields:
        value = v(f"{section}.{key}")
        if value:
            out[key] = str(value) if key == "version" else _plain(value) if key in ("repository", "image") else value
    return out


def _cluster_policy(v: Read, name: str, namespace: str) -> list[dict[str, Any]]:
    """gpu-operator v26.7.0 `templates/clusterpolicy.yaml` (NVIDIA/gpu-operator 10ee5b36), every field but the
    daemonsets' labels (a helper's): a transcription, section by section."""
    if not v("clusterPolicy.deployCR"):
        return []
    sections: dict[str, dict[str, Any]] = {}
    for section, fields in OPERANDS.items():
        if section in ("gds", "gdrcopy") and not v(section):
            continue
        enabled = v(f"{section}.enabled")
        if section == "gdrcopy":
            enabled = enabled or False
        elif section == "sandboxDevicePlugin":
            enabled = enabled or None
        sections[section] = {"enabled": enabled, **_image_fields(v, section, fields),
                             **({} if section in ("gds", "gdrcopy") else _truthy(v, f"{section}.hostNetwork"))}
    validator = sections["validator"]
    validator["version"] = str(v("validator.version") or "main-latest")  # .Chart.AppVersion (git's placeholder)
    for component in ("plugin", "cuda", "driver", "toolkit", "vfioPCI", "vgpuManager", "vgpuDevices"):
        if v(f"validator.{component}"):
            validator[component] = {"env": v(f"validator.{component}.env") or []}
    for manager in ("vgpuManager", "vfioManager"):
        sections[manager]["driverManager"] = _image_fields(v, f"{manager}.driverManager", IMAGE_FIELDS[:4] + ("env",))
    sections["vgpuManager"].update(_truthy(v, "vgpuManager.kernelModuleConfig"))
    sections["kataManager"].update(_truthy(v, "kataManager.config"))
    sections["vgpuDeviceManager"].update(_truthy(v, "vgpuDeviceManager.config"))
    sections["ccManager"]["defaultMode"] = str(v("ccManager.defaultMode", ""))
    sections["toolkit"].update(_truthy(v, "toolkit.installDir", transform=_plain))
    if v("devicePlugin.config.name"):
        sections["devicePlugin"]["config"] = {"name": str(v("devicePlugin.config.name")),
                                              "default": str(v("devicePlugin.config.default", ""))}
    exporter = sections["dcgmExporter"]
    for key in ("annotations", "serviceMonitor", "service", "hostPID", "hpcJobMapping", "enablePodLabels",
                "enablePodUID", "podLabelAllowlistRegex"):
        exporter.update(_truthy(v, f"dcgmExporter.{key}"))
    if v("dcgmExporter.config") and v("dcgmExporter.config.name"):
        exporter["config"] = {"name": _plain(v("dcgmExporter.config.name"))}
    if v("migManager.config"):
        sections["migManager"]["config"] = {"name": _plain(v("migManager.config.name")),
                                            "default": str(v("migManager.config.default", ""))} \
            if v("migManager.config.name") else None
    sections["migManager"].update(_truthy(v, "migManager.gpuClientsConfig"))
    if v("kataSandboxDevicePlugin.enabled") is None:
        sections["kataSandboxDevicePlugin"].pop("enabled")
    crd_driver = v("driver.nvidiaDriverCRD.enabled")
    driver: dict[str, Any] = {"enabled": v("driver.enabled"), "useNvidiaDriverCRD": crd_driver}
    if not crd_driver:
        driver.update({"kernelModuleType": _plain(v("driver.kernelModuleType")), "usePrecompiled": v("driver.usePrecompiled"),
                       **_image_fields(v, "driver", IMAGE_FIELDS[:5]),
                       **{k: x for k in ("startupProbe", "livenessProbe", "readinessProbe") for x in [v(f"driver.{k}")] if x},
                       "rdma": {"enabled": v("driver.rdma.enabled"), "useHostMofed": v("driver.rdma.useHostMofed")},
                       "manager": _image_fields(v, "driver.manager", IMAGE_FIELDS[:4] + ("env",)),
                       **{k: x for k in ("repoConfig", "certConfig", "licensingConfig", "virtualTopology",
                                         "kernelModuleConfig", "secretEnv", "resources", "env", "args")
                          for x in [v(f"driver.{k}")] if x}})
    if v("driver.upgradePolicy"):
        u = "driver.upgradePolicy"
        driver["upgradePolicy"] = {
            "autoUpgrade": v(f"{u}.autoUpgrade") or False, "maxParallelUpgrades": v(f"{u}.maxParallelUpgrades") or 0,
            "maxUnavailable": _plain(str(v(f"{u}.maxUnavailable") or "25%")),
            "waitForCompletion": {"timeoutSeconds": v(f"{u}.waitForCompletion.timeoutSeconds"),
                                  **_truthy(v, f"{u}.waitForCompletion.podSelector", transform=_plain)},
            "podDeletion": {"force": v(f"{u}.gpuPodDeletion.force") or False,
                            "timeoutSeconds": v(f"{u}.gpuPodDeletion.timeoutSeconds"),
                            "deleteEmptyDir": v(f"{u}.gpuPodDeletion.deleteEmptyDir") or False},
            "drain": {"enable": v(f"{u}.drain.enable") or False, "force": v(f"{u}.drain.force") or False,
                      **_truthy(v, f"{u}.drain.podSelector", transform=_plain),
                      "timeoutSeconds": v(f"{u}.drain.timeoutSeconds"),
                      "deleteEmptyDir": v(f"{u}.drain.deleteEmptyDir") or False}}
    driver.update(_truthy(v, "driver.hostNetwork"))
    daemonsets = {"labels": {**v("daemonsets.labels", {})} or None, **_truthy(v, "daemonsets.annotations"),
                  **_truthy(v, "daemonsets.tolerations"), **_truthy(v, "daemonsets.priorityClassName", transform=_plain),
                  **_truthy(v, "daemonsets.updateStrategy", transform=_plain)}
    if v("daemonsets.rollingUpdate"):
        daemonsets["rollingUpdate"] = {"maxUnavailable": str(v("daemonsets.rollingUpdate.maxUnavailable", ""))}
    spec = {
        "hostPaths": {"rootFS": _plain(v("hostPaths.rootFS")), "driverInstallDir": _plain(v("hostPaths.driverInstallDir")),
                      **_truthy(v, "hostPaths.kubeletRootDir", transform=_plain)},
        "operator": {**_truthy(v, "operator.runtimeClass", transform=_plain),
                     **_truthy(v, "operator.defaultGPUMode", transform=_plain),
                     **_truthy(v, "operator.use_ocp_driver_toolkit"),
                     **({"metrics": {**_truthy(v, "operator.metrics.serviceMonitor")}} if v("operator.metrics") else {})
                     } or None,
        "daemonsets": daemonsets, "validator": validator,
        "mig": {**_truthy(v, "mig.strategy", transform=_plain)} or None,
        "psa": {"enabled": v("psa.enabled")},
        "cdi": {"enabled": v("cdi.enabled"), **({"nriPluginEnabled": v("cdi.nriPluginEnabled")}
                                                if v("cdi.enabled") and v("cdi.nriPluginEnabled") else {})},
        "driver": driver, **{k: x for k, x in sections.items() if k != "validator"},
        "sandboxWorkloads": {"enabled": v("sandboxWorkloads.enabled"),
                             **_truthy(v, "sandboxWorkloads.defaultWorkload", transform=_plain),
                             **_truthy(v, "sandboxWorkloads.mode", transform=str)},
    }
    return [{"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"},
             "spec": _pruned(spec)}]


# chart -> (transcription, the vendored templates it transcribes, relative to tests/upstream/charts/<chart folder>)
RENDERERS = {
    "llm-d-router-gateway": (_router_gateway, ("templates/istio.yaml", "charts/routerlib/templates/_inferencepool.yaml")),
    "keda-add-ons-http": (_keda_http, ("templates/interceptor/scaledobject.yaml",)),
    "kube-prometheus-stack": (_kube_prometheus_stack, ("templates/prometheus/prometheus.yaml",
                                                       "templates/alertmanager/alertmanager.yaml")),
    "gpu-operator": (_cluster_policy, ("templates/clusterpolicy.yaml",)),
}


def release_objects(inputs: dict[str, Any], read: Optional[Read] = None) -> list[dict[str, Any]]:
    """The custom resources a release's chart renders with its values, as far as RENDERERS transcribes them."""
    chart = chart_name(inputs)
    if chart not in RENDERERS:
        return []
    v = read or Read(chart_values(inputs))
    return RENDERERS[chart][0](v, inputs.get("name", ""), inputs.get("namespace", ""))


def rendered_objects(plan: Any) -> list[dict[str, Any]]:
    """The custom resources the plan's releases render (RENDERERS), from the vendored templates with each release's
    values: checked against admission control here and against their CRDs (`rendered_crd_refusals`)."""
    return [o for release in plan.helm_releases() for o in release_objects(release.inputs)]


def crd_refusals(obj: dict[str, Any]) -> list[str]:
    """What the API server answers a create of `obj` against its vendored CRD (schema, then CEL rules), as
    "<Kind> <namespace>/<name>: <field>: <reason>"; nothing for a kind with no vendored CRD."""
    if not (CRDS / _group(obj) / f"{obj.get('kind')}.yaml").is_file():
        return []
    try:
        validate_custom(obj, CRDS)
    except jsonschema.ValidationError as error:
        where = ".".join(str(p) for p in error.absolute_path) or "<root>"
        return [f"{_key(obj)}: {where}: {error.message}"]
    except CelRuleViolation as error:
        return [f"{_key(obj)}: {line.strip()}" for line in str(error).splitlines()[1:]]
    return []


def rendered_crd_refusals(plan: Any) -> list[str]:
    """Every refusal of the plan's releases' rendered custom resources by their CRDs: a refused object fails the
    `helm install` of its (atomic) release."""
    return [r for o in rendered_objects(plan) for r in crd_refusals(o)]


CRDS = Path(__file__).parent / "upstream" / "crds"


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as an admission webhook receives it: the API server applied its CRD's structural defaults when it
    decoded the request (a cert-manager parentRef without kind arrives with kind Gateway). The CRD is the vendored
    crds/<group>/<Kind>.yaml; without one the object is taken as written."""
    path = CRDS / _group(obj) / f"{obj.get('kind')}.yaml"
    if not _group(obj) or not path.is_file():
        return obj
    version = obj["apiVersion"].split("/")[1]
    schema = next((v["schema"]["openAPIV3Schema"] for doc in vendored_documents(path) if doc
                   for v in doc["spec"]["versions"] if v["name"] == version), None)
    if schema is None:
        return obj
    body = with_defaults(schema, {k: v for k, v in obj.items() if k != "metadata"})
    return {**body, **({"metadata": obj["metadata"]} if "metadata" in obj else {})}


def objects_refusals(objects: list[dict[str, Any]], stable_policy: bool = False) -> list[str]:
    """Istio's and cert-manager's refusals of these objects (and the stable-channel policy's, when rendered)."""
    checked = [defaulted(o) for o in objects if _group(o) in (*ISTIO_GROUPS, *CERT_MANAGER_GROUPS)]
    return [r for o in checked for r in (*istio_refusals(o), *cert_manager_refusals(o),
                                         *(istio_stable_policy_refusals(o) if stable_policy else ()))]


def plan_refusals(plan: Any) -> list[str]:
    """Every refusal of the admission control coded here over a plan's objects and its releases' rendered ones;
    KEDA's webhook over the rendered ScaledObjects with the plan's objects in place."""
    objects = [o for _, o in manifests(plan)]
    rendered = rendered_objects(plan)
    everything = [*objects, *rendered]
    return [*objects_refusals(everything, istio_stable_policy_rendered(plan)),
            *(r for o in rendered if o["kind"] == "ScaledObject" for r in scaled_object_refusals(o, everything))]
