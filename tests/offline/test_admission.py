"""Every planned variant's objects, and the objects its Helm releases render, against the admission control of
tests/admission.py: istiod's validation webhook, cert-manager's webhook, KEDA's over the HTTP add-on's own
ScaledObject, and Gateway API's safe-upgrades ValidatingAdmissionPolicy over the CRDs we install."""
from __future__ import annotations

import copy
import functools
import re
import types

import pytest
import yaml

from llmplatform.gateway import acme_only_policy, front_door_policy
from llmplatform.pins import GATEWAY_API_VERSION
from offline.plan import manifests

from tests.admission import (CERT_MANAGER_GROUPS, ISTIO_GROUPS, cert_manager_refusals, istio_refusals,
                             istio_stable_policy_refusals, istio_stable_policy_rendered, objects_refusals,
                             plan_refusals, rendered_objects, safe_upgrades_refusals)
from tests.conftest import REGIONS, VARIANTS, upstream_dir, variant_or_stack

# the regional stacks the global stack reads: Front Door's and the ACME gateway's AuthorizationPolicies are theirs


@pytest.mark.parametrize("name", [*sorted(VARIANTS), *REGIONS])
def test_the_admission_control_admits_every_object(name):
    assert plan_refusals(variant_or_stack(name)) == []


def test_the_plans_hold_objects_of_every_group_checked():
    """The check is not vacuous: among the plans are AuthorizationPolicies (regional stacks), the router chart's
    DestinationRule (llmd), an ACME ClusterIssuer and its Certificate, and the HTTP add-on's ScaledObject."""
    kinds = {(o["apiVersion"].split("/")[0], o["kind"]) for name in ("llmd", "prod-tls", REGIONS[0])
             for o in [*(o for _, o in manifests(variant_or_stack(name))), *rendered_objects(variant_or_stack(name))]}
    assert {("security.istio.io", "AuthorizationPolicy"), ("networking.istio.io", "DestinationRule"),
            ("cert-manager.io", "ClusterIssuer"), ("cert-manager.io", "Certificate"),
            ("keda.sh", "ScaledObject")} <= kinds


def _object(name, kind, object_name):
    objects = [o for _, o in manifests(variant_or_stack(name))] + rendered_objects(variant_or_stack(name))
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == object_name))


def _refused(refusals, obj, rule, reason):
    prefix = f"{obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}: {rule}: "
    return any(r.startswith(prefix) and reason in r for r in refusals)


def _acme_rule(spec):
    return spec["rules"][0]["to"][0]["operation"]


@pytest.mark.parametrize(("plant", "rule", "reason"), [
    (lambda s, o: _acme_rule(s).update(paths=["/.well-known/acme-challenge/{token}"]), "ValidateAuthorizationPolicy",
     "beyond a supported path template"),
    (lambda s, o: _acme_rule(s).update(paths=["/{**}/acme/{*}"]), "ValidateAuthorizationPolicy",
     "{**} is not the last operator"),
    (lambda s, o: _acme_rule(s).update(methods=["GET", ""]), "ValidateAuthorizationPolicy", "empty value"),
    (lambda s, o: _acme_rule(s).update(ports=["80", "70000"]), "ValidateAuthorizationPolicy", "bad port (70000)"),
    (lambda s, o: s["rules"].append({"to": [{"operation": {}}]}), "ValidateAuthorizationPolicy",
     "`to.operation` must not be empty"),
    (lambda s, o: s["rules"].append({"when": [{"key": "request.headers", "values": ["x"]}]}),
     "ValidateAuthorizationPolicy", "should have format a[b]"),
    (lambda s, o: s["rules"].append({"when": [{"key": "request.headers[X-Azure-FDID]"}]}),
     "ValidateAuthorizationPolicy", "at least one of `values` or `notValues`"),
    (lambda s, o: s["rules"].append({"when": [{"key": "destination.labels[app]", "values": ["x"]}]}),
     "ValidateAuthorizationPolicy", "unknown attribute"),
    (lambda s, o: s["rules"].append({"from": [{"source": {"ipBlocks": ["10.0.0.0/33"]}}]}),
     "ValidateAuthorizationPolicy", "bad CIDR range"),
    (lambda s, o: s["rules"].append({"from": [{"source": {}}]}), "ValidateAuthorizationPolicy",
     "`from.source` must not be empty"),
    (lambda s, o: s["rules"].append({"from": [{"source": {"namespaces": ["a"], "serviceAccounts": ["a/b"]}}]}),
     "ValidateAuthorizationPolicy", "cannot set serviceAccounts with namespaces"),
    (lambda s, o: s["targetRefs"][0].update(kind="HTTPRoute"), "ValidateAuthorizationPolicy",
     "targetRef must be to one of"),
    (lambda s, o: s["targetRefs"][0].update(namespace="elsewhere"), "ValidateAuthorizationPolicy",
     "cross namespace referencing is not supported"),
    (lambda s, o: s.update(selector={"matchLabels": {"app": "x"}}), "ValidateAuthorizationPolicy",
     "only one of targetRefs or workloadSelector"),
    (lambda s, o: s.update(action="DENY", rules=[]), "ValidateAuthorizationPolicy", "DENY action without `rules`"),
    (lambda s, o: s.update(provider={"name": "ext-authz"}), "ValidateAuthorizationPolicy",
     "`provider` must not be with non CUSTOM action"),
    (lambda s, o: s.update(action="CUSTOM"), "ValidateAuthorizationPolicy", "`provider.name` must not be empty"),
    (lambda s, o: o["metadata"].update(annotations={"istio.io/dry-run": "maybe"}), "validateMetadata",
     "invalid value (maybe)"),
    (lambda s, o: o["metadata"].update(annotations={"internal.istio.io/parents": "x"}), "validateMetadata",
     "may not be set by users"),
    (lambda s, o: o.update(data={}), "checkFields", "unknown field 'data'"),
])
def test_a_planted_authorization_policy_violation_is_refused(plant, rule, reason):
    policy = _object(REGIONS[0], "AuthorizationPolicy", "acme-only")
    plant(policy["spec"], policy)
    assert _refused(objects_refusals([policy]), policy, rule, reason), objects_refusals([policy])


@pytest.mark.parametrize(("plant", "rule", "reason"), [
    (lambda s, o: s.update(host="llmd_epp.llm-d.svc.cluster.local"), "ValidateDestinationRule", "invalid (label"),
    (lambda s, o: s.update(host="llmd-epp.llm-d.svc.123"), "ValidateDestinationRule", "cannot be all-numeric"),
    (lambda s, o: s.update(trafficPolicy={}), "ValidateDestinationRule", "must have at least one field"),
    (lambda s, o: s["trafficPolicy"]["tls"].update(caCertificates="/etc/ca.pem"), "ValidateDestinationRule",
     "when InsecureSkipVerify is set true"),
    (lambda s, o: s["trafficPolicy"]["tls"].update(mode="MUTUAL", insecureSkipVerify=False),
     "ValidateDestinationRule", "client certificate required for mutual tls"),
    (lambda s, o: s["trafficPolicy"].update(connectionPool={}), "ValidateDestinationRule",
     "connection pool must have at least one field"),
    (lambda s, o: s["trafficPolicy"].update(connectionPool={"tcp": {"maxConnections": -1}}),
     "ValidateDestinationRule", "maxConnections must be non-negative"),
    (lambda s, o: s["trafficPolicy"].update(connectionPool={"tcp": {"connectTimeout": "0.0005s"}}),
     "ValidateDestinationRule", "greater than 1ms"),
    (lambda s, o: s["trafficPolicy"].update(outlierDetection={"consecutive5xxErrors": 5}),
     "ValidateDestinationRule", "(not modelled)"),
    (lambda s, o: o["metadata"].update(annotations={"istio.io/dry-run": "true"}), "validateMetadata",
     "unsupported annotation istio.io/dry-run"),
])
def test_a_planted_destination_rule_violation_is_refused(plant, rule, reason):
    """On the DestinationRule the llmd plan's router release renders (llm-d-router-gateway templates/istio.yaml)."""
    rule_object = _object("llmd", "DestinationRule", "llmd-epp")
    plant(rule_object["spec"], rule_object)
    assert _refused(istio_refusals(rule_object), rule_object, rule, reason), istio_refusals(rule_object)


def _with_release_values(plan, chart, change):
    """A stand-in plan holding a copy of one release whose values `change` edits."""
    release = copy.deepcopy(next(r for r in plan.helm_releases() if r.inputs["chart"].endswith(chart)))
    change(release.inputs.setdefault("values", {}))
    return types.SimpleNamespace(helm_releases=lambda: [release])


def test_the_router_charts_destination_rule_is_rendered_from_the_release_values():
    """A connection pool given in the router's values lands in the DestinationRule istiod validates."""
    plan = _with_release_values(variant_or_stack("llmd"), "llm-d-router-gateway", lambda v: v["provider"].update(
        istio={"destinationRule": {"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": -1}}}}}))
    rendered = rendered_objects(plan)
    assert [(o["kind"], o["metadata"]["name"]) for o in rendered] == [("DestinationRule", "llmd-epp"),
                                                                      ("InferencePool", "llmd")]
    assert _refused(objects_refusals(rendered), rendered[0], "ValidateDestinationRule", "non-negative")


def test_the_http_add_ons_scaled_object_meets_kedas_webhook():
    """keda-add-ons-http renders a ScaledObject on its interceptor from `interceptor.replicas`: a minimum above the
    chart's maximum (50) is refused by KEDA's webhook, and the release fails."""
    plan = _with_release_values(variant_or_stack("dev"), "keda-add-ons-http",
                                lambda v: v["interceptor"]["replicas"].update(min=60))
    from tests.webhooks import scaled_object_refusals
    (interceptor,) = rendered_objects(plan)
    assert _refused(scaled_object_refusals(interceptor, []), interceptor, "verifyReplicaCount", "MinReplicaCount=60")


@pytest.mark.parametrize(("fdid", "probes"), [("0f5e1b2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", ["/healthz", "/"]),
                                              ("0F5E1B2A-3C4D-4E5F-8A9B-0C1D2E3F4A5B", []), ("", [])])
def test_the_front_door_policy_with_a_known_id_passes_istiods_webhook(fdid, probes):
    """In a plan the profile's ID is not known yet (a policy without rules); once it is, its header rule and probe
    paths are what istiod validates."""
    for spec in (front_door_policy("external-gateway", fdid, probes), acme_only_policy("acme-gateway")):
        policy = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                  "metadata": {"name": "p", "namespace": "gw"}, "spec": spec}
        assert istio_refusals(policy) == []


def test_istio_kinds_without_rules_here_are_reported_not_passed():
    sidecar = {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": "s", "namespace": "n"}}
    unknown = {**sidecar, "kind": "Sidecars"}
    assert istio_refusals(sidecar) == ["Sidecar n/s: (not modelled): no rules of istio 1.30.3 for Sidecar are coded here"]
    assert "unrecognized type" in istio_refusals(unknown)[0]


def test_the_stable_channel_policy_applies_only_where_a_release_renders_it():
    """istio-base renders it with `experimental.stableValidationPolicy` (default false, ours unset); then it refuses
    an EnvoyFilter and an AuthorizationPolicy source with trustDomains."""
    assert not istio_stable_policy_rendered(variant_or_stack(REGIONS[0]))
    on = _with_release_values(variant_or_stack(REGIONS[0]), "base", lambda v: v.update(experimental={
        "stableValidationPolicy": True}))
    assert istio_stable_policy_rendered(on)
    policy = _object(REGIONS[0], "AuthorizationPolicy", "acme-only")
    policy["spec"]["rules"].append({"from": [{"source": {"trustDomains": ["cluster.local"]}}]})
    envoy_filter = {"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
                    "metadata": {"name": "f", "namespace": "n"}, "spec": {}}
    assert len(istio_stable_policy_refusals(policy)) == 1 and len(istio_stable_policy_refusals(envoy_filter)) == 1
    assert istio_refusals(policy) == []  # the webhook itself accepts trust domains


def _issuer_solver(spec):
    return spec["acme"]["solvers"][0]["http01"]


@pytest.mark.parametrize(("kind", "plant", "rule", "reason"), [
    ("ClusterIssuer", lambda s: s["acme"].pop("server"), "ValidateClusterIssuer", "acme server URL is a required"),
    ("ClusterIssuer", lambda s: s["acme"]["privateKeySecretRef"].pop("name"), "ValidateClusterIssuer",
     "private key secret name"),
    ("ClusterIssuer", lambda s: s.update(selfSigned={}), "ValidateClusterIssuer", "more than one issuer type"),
    ("ClusterIssuer", lambda s: s.pop("acme"), "ValidateClusterIssuer", "at least one issuer must be configured"),
    ("ClusterIssuer", lambda s: s["acme"].update(caBundle="Y2E=", skipTLSVerify=True), "ValidateClusterIssuer",
     "mutually exclusive"),
    ("ClusterIssuer", lambda s: s["acme"]["solvers"].append({}), "ValidateClusterIssuer", "no solver type"),
    ("ClusterIssuer", lambda s: _issuer_solver(s).update(ingress={"ingressClassName": "x"}), "ValidateClusterIssuer",
     "exactly one HTTP01 solver type"),
    ("ClusterIssuer", lambda s: _issuer_solver(s)["gatewayHTTPRoute"].update(serviceType="LoadBalancer"),
     "ValidateClusterIssuer", "serviceType must be empty"),
    ("ClusterIssuer", lambda s: _issuer_solver(s)["gatewayHTTPRoute"]["parentRefs"][0].pop("name"),
     "ValidateClusterIssuer", "name is required when kind is specified"),
    ("Certificate", lambda s: s.update(secretName="Gateway_TLS"), "ValidateCertificate", "DNS-1123 subdomain"),
    ("Certificate", lambda s: s["issuerRef"].update(kind="Secret"), "ValidateCertificate",
     "must be one of Issuer or ClusterIssuer"),
    ("Certificate", lambda s: s.pop("dnsNames"), "ValidateCertificate", "at least one of commonName"),
    ("Certificate", lambda s: s.update(commonName="c" * 65), "ValidateCertificate", "more than 64"),
    ("Certificate", lambda s: s["privateKey"].update(size=2048), "ValidateCertificate", "Unsupported value: 2048"),
    ("Certificate", lambda s: s["privateKey"].update(algorithm="RSA", size=1024), "ValidateCertificate",
     "between 2048 and 8192"),
    ("Certificate", lambda s: s.update(signatureAlgorithm="SHA256WithRSA"), "ValidateCertificate",
     "not allowed for key algorithm ECDSA"),
    ("Certificate", lambda s: s.update(usages=["server auth"]), "ValidateCertificate", "(not modelled)"),
])
def test_a_planted_cert_manager_violation_is_refused(kind, plant, rule, reason):
    obj = _object("prod-tls", kind, "letsencrypt" if kind == "ClusterIssuer" else "gateway-tls")
    plant(obj["spec"])
    assert _refused(objects_refusals([obj]), obj, rule, reason), objects_refusals([obj])


def test_the_webhook_sees_the_crds_defaults():
    """A parentRef without kind reaches cert-manager's webhook as kind Gateway (the ClusterIssuer CRD's default):
    admitted, though ValidateACMEIssuerChallengeSolverHTTP01GatewayConfig refuses a name without kind."""
    issuer = _object("prod-tls", "ClusterIssuer", "letsencrypt")
    _issuer_solver(issuer["spec"])["gatewayHTTPRoute"]["parentRefs"][0].pop("kind")
    assert objects_refusals([issuer]) == []
    assert "kind is required when name is specified" in cert_manager_refusals(issuer)[0]


@functools.lru_cache(maxsize=None)
def _crd_heads() -> tuple[str, ...]:
    """The vendored Gateway API CRDs up to their schema (what the policy reads: annotations and spec.group)."""
    return tuple(p.read_text().split("\n  names:")[0] for p in sorted(
        (upstream_dir() / "crds" / "gateway.networking.k8s.io").glob("*.yaml")))


def _gateway_crds():
    return [yaml.safe_load(head) for head in _crd_heads()]


def test_the_gateway_api_crds_we_install_pass_the_safe_upgrades_policy():
    """The bundle we install (the standard channel at the pinned version) is admitted on create and on every later
    update; nothing else in the deploy writes gateway.networking.k8s.io CRDs (docs/decisions.md)."""
    crds = _gateway_crds()
    assert crds and all(c["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"]
                        == GATEWAY_API_VERSION for c in crds)
    assert [r for c in crds for r in (*safe_upgrades_refusals(c), *safe_upgrades_refusals(c, c))] == []


@pytest.mark.parametrize(("version", "channel", "old_channel", "reason"), [
    ("v1.4.1", "standard", None, "before v1.5.0"),
    ("v1.5.1", "standard", None, "before v1.5.0"),  # the policy's regex refuses v1.5.x too ([0-5] holds 5)
    ("v0.8.0", "standard", None, "before v1.5.0"),
    (None, "standard", None, "before v1.5.0"),
    ("v1.6.1", "experimental", "standard", "experimental CRDs on top of standard"),
])
def test_a_planted_gateway_api_crd_is_refused_by_the_safe_upgrades_policy(version, channel, old_channel, reason):
    crd = copy.deepcopy(_gateway_crds()[0])
    annotations = crd["metadata"]["annotations"]
    annotations.pop("gateway.networking.k8s.io/bundle-version")
    annotations.update({"gateway.networking.k8s.io/channel": channel,
                        **({"gateway.networking.k8s.io/bundle-version": version} if version else {})})
    old = None
    if old_channel:
        old = copy.deepcopy(_gateway_crds()[0])
        old["metadata"]["annotations"]["gateway.networking.k8s.io/channel"] = old_channel
    refusals = safe_upgrades_refusals(crd, old)
    assert any(reason in r and crd["metadata"]["name"] in r for r in refusals), refusals


def test_release_candidates_and_an_experimental_upgrade_of_experimental_crds_pass():
    crd = copy.deepcopy(_gateway_crds()[0])
    crd["metadata"]["annotations"].update({"gateway.networking.k8s.io/bundle-version": "v1.5.0-rc.1",
                                           "gateway.networking.k8s.io/channel": "experimental"})
    assert safe_upgrades_refusals(crd, crd) == []


def test_the_vendored_admission_configuration_is_what_is_coded():
    """The groups the webhooks match and the policy's version checks, read from the vendored configuration."""
    admission = upstream_dir() / "admission"

    def groups(text):
        block = re.search(r"apiGroups:\n((?:\s+- .+\n)+)", text).group(1)
        return tuple(re.findall(r"- \"?([a-z.-]+)\"?", block))
    assert groups((admission / "istio-base-defaultrevision-validatingwebhookconfiguration.yaml").read_text()) == \
        ISTIO_GROUPS
    assert "objectSelector" not in (admission / "istio-base-defaultrevision-validatingwebhookconfiguration.yaml"
                                    ).read_text()
    assert groups((admission / "cert-manager-webhook-validating-webhook.yaml").read_text()) == CERT_MANAGER_GROUPS
    policy = next(yaml.safe_load_all((admission / "gateway-api-vap-safeupgrades.yaml").read_text()))
    expressions = " ".join(v["expression"] for v in policy["spec"]["validations"])
    assert {"'v1.[0-5].\\\\d+'", "'-(rc)'", "'v0'"} <= set(re.findall(r"'[^']*'", expressions))
    assert "oldObject.metadata.annotations['gateway.networking.k8s.io/channel'] == 'experimental'" in expressions
