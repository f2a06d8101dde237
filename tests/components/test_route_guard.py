"""The admission policy Observability installs with the KEDA HTTP add-on (llmplatform/route_guard.py): a route of one
namespace may not name another namespace's host (docs/decisions.md, "Every namespace's KEDA routes kept to its own
hosts (2026-12-08, a helper, routeguard)").

The policy is read from the plans, as sent to the cluster, and its CEL evaluated as the API server does
(k8s.io/apiserver pkg/admission/plugin/policy/validating: matchConstraints, then matchConditions, then the
variables, then each validation; an error under failurePolicy Fail refuses): every route the shipped stacks and the
components make is admitted, and every hijacking route of kedacore/http-add-on v0.15.0's routing
(pkg/routing/key.go, tablememory.go) is refused."""
from __future__ import annotations

import copy
import functools
from typing import Any, Optional

import kubernetes_validate
import pytest
from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

from llmplatform.kubernetes_schemas import AKS_KUBERNETES_VERSIONS
from llmplatform.route_guard import POLICY_NAME
from offline import deploy_model
from offline.plan import manifests

from tests.components.test_interceptor_route import CRD, KEDA_VARIANTS
from tests.conftest import UPSTREAM, variant
from tests.validation import validate_custom

HTTPSO_CRD = UPSTREAM / "crds" / "http.keda.sh" / "HTTPScaledObject.yaml"
PLURAL = {"InterceptorRoute": "interceptorroutes", "HTTPScaledObject": "httpscaledobjects"}
VAP, BINDING = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    # the variables the API server binds (plugin/policy/validating/typechecking.go buildEnvSet), dynamic as at runtime
    names = ("object", "oldObject", "request", "variables", "params", "namespaceObject", "authorizer")
    return cel.NewEnv(variables={n: cel.Type.DYN for n in names}, extensions=[ext_strings.ExtStrings()])


def _eval(expression: str, data: dict[str, Any]) -> Any:
    result = _env().compile(expression).eval(data=data)
    if result.type().name() == "ERROR":
        raise RuntimeError(f"{expression!r}: {result.value()}")
    return result.plain_value()


def guard(plan: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    objects = [o for _, o in manifests(plan)]
    return (next(o for o in objects if o["kind"] == VAP and o["metadata"]["name"] == POLICY_NAME),
            next(o for o in objects if o["kind"] == BINDING and o["metadata"]["name"] == POLICY_NAME))


def judge(policy: dict[str, Any], obj: dict[str, Any], namespace: str, operation: str = "CREATE",
          old: Optional[dict[str, Any]] = None) -> Optional[str]:
    """None when the policy admits the request, else the message it refuses with."""
    spec, group, version = policy["spec"], *obj["apiVersion"].split("/")
    resource = PLURAL[obj["kind"]]
    rules = spec["matchConstraints"]["resourceRules"]
    if not any(group in r["apiGroups"] and resource in r["resources"] and operation in r["operations"]
               for r in rules):
        return None
    request = {"operation": operation, "namespace": namespace, "name": obj["metadata"].get("name", ""),
               "kind": {"group": group, "version": version, "kind": obj["kind"]},
               "resource": {"group": group, "version": version, "resource": resource}}
    data = {"object": obj, "oldObject": old, "request": request}
    try:
        if not all(_eval(c["expression"], data) for c in spec.get("matchConditions") or []):
            return None
        data["variables"] = {}
        for variable in spec.get("variables") or []:
            data["variables"][variable["name"]] = _eval(variable["expression"], data)
        for validation in spec["validations"]:
            if _eval(validation["expression"], data) is not True:
                try:
                    return _eval(validation["messageExpression"], data)
                except RuntimeError:
                    return validation["message"]
    except RuntimeError as error:
        assert spec["failurePolicy"] == "Fail"
        return f"error under failurePolicy Fail: {error}"
    return None


def _route(namespace: str, rules: list[dict[str, Any]], name: str = "thief") -> dict[str, Any]:
    return {"apiVersion": "http.keda.sh/v1beta1", "kind": "InterceptorRoute",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"target": {"service": "thief", "port": 80}, "rules": rules,
                     "scalingMetric": {"concurrency": {"targetValue": 1}}}}


def _scaled_object(namespace: str, hosts: Optional[list[str]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "http.keda.sh/v1alpha1", "kind": "HTTPScaledObject",
            "metadata": {"name": "thief", "namespace": namespace},
            "spec": {**({"hosts": hosts} if hosts is not None else {}),
                     "scaleTargetRef": {"name": "thief", "service": "thief", "port": 80}, **spec}}


def planned_routes(plan: Any) -> list[dict[str, Any]]:
    return [o for _, o in manifests(plan) if o["kind"] in PLURAL]


@pytest.mark.parametrize("name", KEDA_VARIANTS)
def test_every_planned_route_is_admitted(name):
    """dev, prod, llmd and the other variants whose model servers scale on requests: each route they make (the
    ModelAutoscaler's, under InferenceStack and LlmdStack) passes the policy their own plan installs."""
    plan = variant(name)
    policy, _ = guard(plan)
    routes = planned_routes(plan)
    assert routes, f"{name} makes no KEDA HTTP route: the check would be vacuous"
    assert {r["metadata"]["namespace"] + "/" + r["metadata"]["name"]: judge(policy, r, r["metadata"]["namespace"])
            for r in routes} == {r["metadata"]["namespace"] + "/" + r["metadata"]["name"]: None for r in routes}


def _ours(plan: Any) -> dict[str, Any]:
    return next(r for r in planned_routes(plan) if r["metadata"]["name"] == "ollama")


def _hijack(hosts: list[str], **rule: Any) -> list[dict[str, Any]]:
    return [{"hosts": hosts, **rule}]


# every way a route of namespace `team` could take the model namespace's traffic (`<ns>` its namespace): its host
# with a path (the longest prefix wins), with a header every gate request carries (more headers win), with a port
# (stripped before matching), in each of its forms; a wildcard and a catch-all (matched when no exact host is); a
# host holding the path, whose key is a prefix of the request's (key.go NewKey: host + "/" + path)
HIJACKS = {
    "path": lambda ns: _hijack([f"ollama-scaled.{ns}"], paths=[{"value": "/api"}]),
    "header": lambda ns: _hijack([f"ollama-scaled.{ns}"], headers=[{"name": "content-length"}]),
    "port": lambda ns: _hijack([f"ollama-scaled.{ns}:8080"], paths=[{"value": "/"}]),
    "fqdn": lambda ns: _hijack([f"ollama-scaled.{ns}.svc.cluster.local"], paths=[{"value": "/api"}]),
    "fqdn-port": lambda ns: _hijack([f"ollama-scaled.{ns}.svc.cluster.local:8080"], paths=[{"value": "/api"}]),
    "svc": lambda ns: _hijack([f"ollama-scaled.{ns}.svc"], paths=[{"value": "/api"}]),
    "among-own": lambda ns: _hijack(["mine.team", f"ollama-scaled.{ns}"], paths=[{"value": "/api"}]),
    "second-rule": lambda ns: [{"hosts": ["mine.team"]}, {"hosts": [f"ollama-scaled.{ns}"],
                                                          "paths": [{"value": "/api"}]}],
    "wildcard": lambda ns: _hijack([f"*.{ns}"]),
    "wildcard-svc": lambda ns: _hijack([f"*.{ns}.svc.cluster.local"]),
    "catch-all": lambda ns: _hijack(["*"]),
    "empty-host": lambda ns: _hijack([""]),
    "no-hosts": lambda ns: [{"paths": [{"value": "/api"}]}],
    "host-with-path": lambda ns: _hijack([f"ollama-scaled.{ns}/api"]),
    "team-host-with-path": lambda ns: _hijack([f"x.team/../ollama-scaled.{ns}"]),
    "trailing-dot": lambda ns: _hijack([f"ollama-scaled.{ns}."]),
    "ipv6": lambda ns: _hijack(["[::1]:8080"]),
}


@pytest.mark.parametrize("form", sorted(HIJACKS))
def test_a_route_of_another_namespace_naming_the_models_host_is_refused(form):
    plan = variant("dev")
    policy, ours = guard(plan)[0], _ours(plan)
    ns = ours["metadata"]["namespace"]
    thief = _route("team", HIJACKS[form](ns))
    validate_custom(thief, UPSTREAM / "crds")  # the CRD admits it: only the policy stands in the way
    message = judge(policy, thief, "team")
    assert message is not None and "InterceptorRoute team/thief: spec hosts " in message, message
    assert "where <namespace> is the route's own" in message


@pytest.mark.parametrize("hosts", [["ollama-scaled.llm"], ["*.llm"], ["*"], [], None, ["ollama-scaled.llm/api"]])
def test_an_http_scaled_object_is_held_to_the_same_hosts(hosts):
    """The deprecated HTTPScaledObject becomes a route of its namespace in the interceptor's table (table.go); without
    hosts it is a catch-all."""
    policy, _ = guard(variant("dev"))
    thief = _scaled_object("team", hosts, pathPrefixes=["/api"])
    validate_custom(thief, UPSTREAM / "crds")
    message = judge(policy, thief, "team")
    assert message is not None and message.startswith("HTTPScaledObject team/thief: spec hosts "), message


def test_a_namespace_may_route_its_own_hosts_in_every_form():
    policy, _ = guard(variant("dev"))
    own = ["api.team", "api.team:80", "api.team.svc", "api.team.svc:8080", "api.team.svc.cluster.local",
           "api.team.svc.cluster.local:8080"]
    assert judge(policy, _route("team", [{"hosts": own, "paths": [{"value": "/v1"}],
                                          "headers": [{"name": "x-tenant", "value": "a"}]}, {"hosts": ["b.team"]}]),
                 "team") is None
    assert judge(policy, _scaled_object("team", own), "team") is None
    assert judge(policy, _route("team", []), "team") is None  # no rule routes nothing


def test_the_message_names_the_hosts_refused_and_what_is_allowed():
    policy, _ = guard(variant("dev"))
    message = judge(policy, _route("team", [{"hosts": ["ok.team", "ollama-scaled.llm"]}, {"hosts": ["*"]},
                                            {"paths": [{"value": "/"}]}]), "team")
    assert message == ('InterceptorRoute team/thief: spec hosts "ollama-scaled.llm"; "*"; (a rule without hosts: a '
                       "catch-all) are not allowed: a host must be <service>.<namespace>, <service>.<namespace>.svc "
                       "or <service>.<namespace>.svc.cluster.local, optionally with :<port>, where <namespace> is "
                       "the route's own (no wildcard, no rule without hosts)")


def test_updates_are_judged_when_the_spec_changes_and_the_operators_own_updates_pass():
    """A route made before the policy keeps working: the add-on's operator adds, and at deletion removes, its
    finalizer on an HTTPScaledObject with an update of the object (operator/controllers/http/finalizer.go), which
    must pass (else its deletion hangs); an update that changes the hosts is judged like a create."""
    policy, _ = guard(variant("dev"))
    old = _scaled_object("team", ["ollama-scaled.llm"])
    finalized = copy.deepcopy(old)
    finalized["metadata"]["finalizers"] = ["httpscaledobject.http.keda.sh"]
    assert judge(policy, finalized, "team", "UPDATE", old) is None
    mine = _route("team", [{"hosts": ["mine.team"]}])
    moved = _route("team", [{"hosts": ["mine.team", "ollama-scaled.llm"], "paths": [{"value": "/api"}]}])
    assert judge(policy, moved, "team", "UPDATE", mine) is not None
    assert judge(policy, mine, "team", "UPDATE", moved) is None  # back to its own hosts


def test_the_policy_and_binding_pass_the_api_servers_schemas():
    for plan_name in ("dev", "prod", "llmd"):
        for obj in guard(variant(plan_name)):
            for version in AKS_KUBERNETES_VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)
    policy, binding = guard(variant("dev"))
    assert binding["spec"] == {"policyName": POLICY_NAME, "validationActions": ["Deny"]}
    assert policy["spec"]["failurePolicy"] == "Fail" and "paramKind" not in policy["spec"]


def test_the_policy_matches_the_served_versions_of_the_add_ons_crds():
    """The resources and versions the policy names are the CRDs' the add-on's chart installs (a renamed resource or a
    new served version would go unjudged)."""
    import yaml
    policy, _ = guard(variant("dev"))
    named = {(g, v, r) for rule in policy["spec"]["matchConstraints"]["resourceRules"]
             for g in rule["apiGroups"] for v in rule["apiVersions"] for r in rule["resources"]}
    served = set()
    for path in (CRD, HTTPSO_CRD):
        crd = yaml.safe_load(path.read_text())
        served |= {(crd["spec"]["group"], v["name"], crd["spec"]["names"]["plural"])
                   for v in crd["spec"]["versions"] if v.get("served")}
    assert named == served


@pytest.mark.parametrize("name", ["dev", "llmd"])
def test_the_deploy_model_writes_the_policy_after_the_add_on_the_binding_after_it_and_the_routes_last(name):
    plan = variant(name)
    model = deploy_model.evaluate(plan)
    steps = {s.reg.name: s for s in model.steps.values()}
    policy = next(s for s in model.steps.values() if s.reg.type.endswith(f":{VAP}"))
    binding = next(s for s in model.steps.values() if s.reg.type.endswith(f":{BINDING}"))
    add_on = steps[next(n for n in steps if n.endswith("-keda-http"))]
    assert add_on.finish.median <= policy.start.median and policy.finish.median <= binding.start.median
    assert plan.waits_for(binding.reg, lambda r: r.urn == policy.reg.urn)
    assert plan.waits_for(policy.reg, lambda r: r.urn == add_on.reg.urn)
    routes = [s for s in model.steps.values() if s.reg.type.endswith(":InterceptorRoute")]
    assert routes and all(plan.waits_for(r.reg, lambda x: x.urn == binding.reg.urn) for r in routes)
    assert all(binding.finish.median <= r.start.median for r in routes)


def _consumer(hosts: Any = None, namespace: Any = None) -> Any:
    """A consumer's composition: Observability, an InferenceStack in its model store's namespace and a requests-mode
    ModelAutoscaler on its model server (hosts and namespace replaced when given, as a hand-built handle would carry;
    a function makes them in the program, an output)."""
    from llmplatform import InferenceStack, ModelAutoscaler, Observability
    from llmplatform.testing import run
    from tests.components.test_stranger4_consumer import platform, store

    def program():
        aks, k8s, vault = platform()
        obs = Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "acme"}, k8s)
        stack = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "keda": obs.keda,
                                       "model_volume": store(aks, k8s).volume}, k8s)
        server = {**stack.model_server, **{key: value() if callable(value) else value for key, value in
                                           (("hosts", hosts), ("namespace", namespace)) if value is not None}}
        ModelAutoscaler("scale", {"model_server": server, "mode": "requests", "min_replicas": 0, "max_replicas": 2,
                                  "keda": obs.keda}, k8s)
    return run(program)


def test_the_model_autoscalers_route_in_a_consumers_namespace_is_admitted():
    plan = _consumer()
    policy, _ = guard(plan)
    routes = planned_routes(plan)
    assert len(routes) == 1 and routes[0]["spec"]["rules"][0]["hosts"]
    assert judge(policy, routes[0], routes[0]["metadata"]["namespace"]) is None


def test_a_model_server_handle_whose_hosts_the_policy_refuses_is_refused_in_the_plan():
    """A hand-built handle's hosts are the route's: a bare name (a form two namespaces' routes could share) and
    another namespace's host are refused by ModelAutoscaler's input rule, the policy's own forms (route_guard
    host_problem), by input, value and what is allowed, before the autoscaler registers anything (a
    ComponentInputError from its constructor); the cluster would refuse the same route at `pulumi up`."""
    from llmplatform import ComponentInputError
    with pytest.raises(ComponentInputError) as refused:
        _consumer(["ollama-scaled.acme", "ollama-scaled", "ollama-scaled.llm.svc:8080"], "acme")
    message = str(refused.value)
    assert message.startswith("ModelAutoscaler scale: input model_server.hosts[1]='ollama-scaled' is invalid; "
                              "allowed: a host of the form <service>.<namespace>, <service>.<namespace>.svc or "
                              "<service>.<namespace>.svc.cluster.local, optionally with :<port>, where <namespace> "
                              "is the route's own (no wildcard, no rule without hosts): this autoscaler writes its "
                              "InterceptorRoute with the model server's hosts in the server's namespace, and the "
                              "route guard Observability installs"), message
    assert ("input model_server.hosts[2]='ollama-scaled.llm.svc:8080' is invalid; allowed: a host of the route's "
            "own namespace, 'acme', not 'llm' (a host must be <service>.<namespace>,") in message
    assert "hosts[0]" not in message and f"ValidatingAdmissionPolicy {POLICY_NAME}" in message
    assert [e["property_path"] for e in refused.value.errors or []] == ["model_server.hosts[1]",
                                                                        "model_server.hosts[2]"]
    # the cluster refuses the same hosts
    policy, _ = guard(_consumer())
    for host in ("ollama-scaled", "ollama-scaled.llm.svc:8080"):
        assert judge(policy, _route("acme", [{"hosts": [host]}]), "acme") is not None


def test_hosts_that_arrive_as_an_output_are_refused_once_they_resolve_in_the_same_words():
    """Another stack's handle (its hosts an output): the rule runs once they resolve, before the route registers."""
    import pulumi
    with pytest.raises(Exception) as refused:
        _consumer(lambda: pulumi.Output.from_input(["ollama-scaled.acme", "ollama-scaled"]))
    assert ("ModelAutoscaler scale: input model_server.hosts[1]='ollama-scaled' is invalid; allowed: a host of the "
            "form <service>.<namespace>") in str(refused.value), str(refused.value)


def test_a_namespace_that_arrives_as_an_output_is_compared_with_the_hosts_once_it_resolves():
    """Hosts known now in the form the guard admits, the namespace (where the route is written) an output: the
    hosts' namespace label is held to it once it resolves."""
    import pulumi
    with pytest.raises(Exception) as refused:
        _consumer(["ollama-scaled.llm"], lambda: pulumi.Output.from_input("acme"))
    assert ("ModelAutoscaler scale: input model_server.hosts[0]='ollama-scaled.llm' is invalid; allowed: a host of "
            "the route's own namespace, 'acme', not 'llm'") in str(refused.value), str(refused.value)


def test_the_input_rule_and_the_policy_admit_the_same_hosts():
    """One source: route_guard.host_problem (Python's fullmatch of HOST_PATTERN, the namespace label) and the
    policy's CEL (RE2 of the same pattern, anchored) agree on every host the hijack list, the own forms and some
    edge cases name."""
    from llmplatform.route_guard import host_problem
    policy, _ = guard(variant("dev"))
    hosts = {h for make in HIJACKS.values() for rule in make("llm") for h in rule.get("hosts", [])}
    hosts |= {"api.team", "api.team:80", "api.team.svc", "api.team.svc:8080", "api.team.svc.cluster.local:8080",
              "api.team\n", "API.team", "api.team:123456", "api.team.svc.cluster", "a.b.c", "-a.team", "a-.team",
              "a.team.svc.cluster.local.", "a.team:", "a..team", "ollama-scaled.llm", "é.team", "a.team:0"}
    for host in sorted(hosts):
        for namespace in ("team", "llm"):
            admitted = judge(policy, _route(namespace, [{"hosts": [host]}]), namespace) is None
            assert (host_problem(host, namespace) is None) == admitted, (host, namespace)
