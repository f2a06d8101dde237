"""The admission policy that keeps every namespace's KEDA HTTP routes to its own hosts (Observability installs it with
the add-on).

The add-on's interceptor reads the InterceptorRoutes and HTTPScaledObjects of every namespace into one table and
sends a request to the Service of the winning route's own namespace (kedacore/http-add-on v0.15.0
`pkg/routing/table.go` refreshMemory, an HTTPScaledObject converted to a route of its namespace;
`interceptor/middleware/routing.go`). A route's key is its host, port stripped (`net.SplitHostPort`), then its path
prefix; the longest prefix wins, among equals the one with more header matches, then the older (`pkg/routing/key.go`
NewKey, stripPort; `tablememory.go` Route, remember). Hosts are compared byte for byte, a wildcard (`*.x`) or a rule
without hosts (a catch-all) only when no exact host matches. So a route of another namespace naming
`ollama-scaled.llm` with a path or a header took every prompt InferenceStack's route (no path, no header) sends.

The policy admits a host only as `<service>.<namespace>`, `<service>.<namespace>.svc` or
`<service>.<namespace>.svc.cluster.local`, lowercase DNS labels, with or without `:<port>`, where `<namespace>` is
the route's own: any host one namespace may name no other namespace can (the namespace is always the second label and
the forms differ in their number of labels), and no host can hold a `/` that would make its key a prefix of another
host's path. A wildcard, an empty host and a rule without hosts are refused. Only a create, or an update that changes
`spec`, is judged: the add-on's operator adds and removes its finalizer on an HTTPScaledObject with an update of the
object (`operator/controllers/http/finalizer.go`), which must not fail for a route made before the policy (its
deletion would hang), and writes status through the status subresource, which the policy does not match.
"""
import re
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

ROUTE_GROUP = "http.keda.sh"
# the served versions of the add-on 0.15.0's CRDs (tests/upstream/crds/http.keda.sh); matchPolicy Equivalent (the
# default) also judges a request made through another version of the same resource, converted to these
ROUTE_RESOURCES = {"interceptorroutes": "v1beta1", "httpscaledobjects": "v1alpha1"}
POLICY_NAME = "llmplatform-keda-route-hosts"
# The host forms admitted, defined once: a Service's name and its namespace (DNS labels), the cluster's suffixes, a
# port. The policy's CEL takes the pattern anchored (`matches` is an RE2 search; in a single-quoted CEL string literal
# each backslash doubled), ModelAutoscaler's input rule whole (`host_problem`, Python's `re.fullmatch`): the pattern
# uses only what RE2 and Python read alike (ASCII classes, groups, `?`, `*`, `{1,5}`), so both admit the same hosts.
HOST_PATTERN = (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                r"(\.svc(\.cluster\.local)?)?(:[0-9]{1,5})?")
HOST_FORM = "^" + HOST_PATTERN.replace("\\", "\\\\") + "$"
NAMESPACE_LABEL = 1  # the namespace is a host's second label, its port stripped (the forms have 2, 3 and 5 labels)
ALLOWED = ("<service>.<namespace>, <service>.<namespace>.svc or <service>.<namespace>.svc.cluster.local, "
           "optionally with :<port>, where <namespace> is the route's own (no wildcard, no rule without hosts)")

# each rule's hosts (an InterceptorRoute's rules; an HTTPScaledObject's one list); [] for a rule without hosts
HOST_LISTS = ("request.resource.resource == 'interceptorroutes' ? "
              "(has(object.spec.rules) ? object.spec.rules.map(r, has(r.hosts) ? r.hosts : []) : []) : "
              "[has(object.spec) && has(object.spec.hosts) ? object.spec.hosts : []]")
# per rule, the hosts refused, quoted (an empty host shows); a rule without hosts named as such
REFUSED = ("variables.hostLists.map(l, size(l) == 0 ? ['(a rule without hosts: a catch-all)'] : "
           f"l.filter(h, !(h.matches('{HOST_FORM}') && "
           f"h.split(':')[0].split('.')[{NAMESPACE_LABEL}] == request.namespace))"
           ".map(h, '\"' + h + '\"'))")
VALIDATION = "variables.refused.all(l, size(l) == 0)"
MESSAGE = ("request.kind.kind + ' ' + request.namespace + '/' + request.name + ': spec hosts ' + "
           "variables.refused.filter(l, size(l) > 0).map(l, l.join(', ')).join('; ') + "
           f'" are not allowed: a host must be {ALLOWED}"')
# a create, or an update that changes what routes (not a finalizer's or a label's update)
JUDGED = "request.operation == 'CREATE' || !has(oldObject.spec) || !has(object.spec) || object.spec != oldObject.spec"


def host_problem(host: str, namespace: Optional[str]) -> Optional[str]:
    """Why the policy refuses `host` in a route of `namespace` (None when it admits it): REFUSED's judgement of one
    host, from the same HOST_PATTERN and NAMESPACE_LABEL. `namespace` None (not known yet): the form alone."""
    if not re.fullmatch(HOST_PATTERN, host):
        return f"a host of the form {ALLOWED}"
    named = host.split(":")[0].split(".")[NAMESPACE_LABEL]
    if namespace is not None and named != namespace:
        return f"a host of the route's own namespace, {namespace!r}, not {named!r} (a host must be {ALLOWED})"
    return None


def policy_spec() -> k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs:
    """The policy: paramless, Fail on an error (a route it cannot judge is not admitted)."""
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=k8s.admissionregistration.v1.MatchResourcesArgs(
            match_policy="Equivalent",
            resource_rules=[k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
                api_groups=[ROUTE_GROUP], api_versions=[version], operations=["CREATE", "UPDATE"],
                resources=[resource], scope="Namespaced") for resource, version in ROUTE_RESOURCES.items()]),
        match_conditions=[k8s.admissionregistration.v1.MatchConditionArgs(name="routing-set-or-changed",
                                                                           expression=JUDGED)],
        variables=[k8s.admissionregistration.v1.VariableArgs(name="hostLists", expression=HOST_LISTS),
                   k8s.admissionregistration.v1.VariableArgs(name="refused", expression=REFUSED)],
        validations=[k8s.admissionregistration.v1.ValidationArgs(
            expression=VALIDATION, message_expression=MESSAGE, reason="Forbidden",
            message=f"every host of a KEDA HTTP route must be {ALLOWED}")])


def route_guard(resource_name: str, add_on: pulumi.Resource, opts: pulumi.ResourceOptions
                ) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding:
    """The policy and its binding (every namespace, Deny). The policy after the add-on's release, whose CRDs it
    matches: the API server judges requests by their resource whether or not the CRD exists, but type-checks a
    policy's expressions (its status.typeChecking) only against the schemas it finds when the policy is written
    (kubernetes staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go, a kind it
    cannot map is skipped). The binding after the policy: a binding whose policy does not exist is ignored
    (ValidatingAdmissionPolicyBindingSpec.policyName, admissionregistration.k8s.io/v1), so the guard holds once the
    binding exists."""
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        resource_name, metadata=k8s.meta.v1.ObjectMetaArgs(name=POLICY_NAME), spec=policy_spec(),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[add_on])))
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        f"{resource_name}-binding", metadata=k8s.meta.v1.ObjectMetaArgs(name=POLICY_NAME),
        spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
            policy_name=policy.metadata.name, validation_actions=["Deny"]),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[policy])))

