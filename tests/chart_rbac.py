"""Where the service accounts of the pinned charts may read Secrets, for the values a plan gives a release: the
template lines that grant `secrets`, transcribed from the vendored templates (verbatim copies,
tests/upstream/SOURCES.md) as the conditions they render under. tests/components/test_chart_rbac.py checks each
transcription against the vendored text, so a chart bump that moves a rule fails until it is read again.

- KEDA 2.20.2 (kedacore/charts keda/templates/manager/clusterrole.yaml, minimal-rbac.yaml): the operator's
  ClusterRole lists and watches every Secret of the cluster unless `permissions.operator.restrict.secret`; then its
  Role in the release's namespace does (`list` and `watch` with cert-manager's certificates, `get`, `list`, `watch`
  with the chart's own generated ones; with neither, nothing: then the operator, which waits for its informer of its
  namespace's Secrets before it starts, never starts: kedacore/keda v2.20.2 cmd/operator/main.go `WaitForCacheSync`),
  and the operator reads a TriggerAuthentication's or a scale target's secret only from its own namespace (kedacore/keda
  v2.20.2 pkg/scaling/resolver/scale_resolvers.go `isSecretAccessRestricted`, `resolveEnv`, `resolveAuthSecret`: a
  TriggerAuthentication's `secretTargetRef` is looked up by name in KEDA's namespace, whichever namespace it is in).
- kube-state-metrics 8.4.0 (prometheus-community/helm-charts charts/kube-state-metrics/templates/role.yaml,
  _helpers.tpl `kube-state-metrics.collectors`): `list` and `watch` on Secrets in a ClusterRole (`rbac.useClusterRole`,
  default true) whenever `secrets` is an active collector: `collectors` less `collectorsExclude`, plus
  `collectorsExtra`; and whatever `rbac.extraRules` adds to the same role.

A `list` of Secrets returns their data: either grant reads every value it reaches."""
from typing import Any

from offline.deploy_model.charts import chart_values

ALL_NAMESPACES = "*"

# keda/templates/manager/clusterrole.yaml at v2.20.2: the ClusterRole's rule, under this condition
KEDA_CLUSTER_SECRETS = """{{- if not .Values.permissions.operator.restrict.secret }}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs:
  - list
  - watch"""
# keda/templates/manager/minimal-rbac.yaml at v2.20.2: the Role in the release's namespace, under these conditions
KEDA_NAMESPACE_SECRETS = ("""{{- if .Values.certificates.certManager.enabled }}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs:
  - get
  resourceNames:
  - {{ .Values.certificates.secretName | quote }}
{{- if .Values.permissions.operator.restrict.secret }}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs:
  - list
  - watch""", """{{- if .Values.permissions.operator.restrict.secret }}
  - get
  - list
  - watch""")
KEDA_ROLE_NAMESPACE = "  namespace: {{ .Release.Namespace }}"
# keda/templates/manager/clusterrole.yaml at v2.20.2: with this value every holder of the cluster's `admin` or `edit`
# role in a namespace may create TriggerAuthentications and ScaledObjects there; restricted, each `secretTargetRef` of
# theirs has the operator read a Secret of KEDA's namespace by name and hand it to a scaler of their choosing
KEDA_AGGREGATED = """{{- if .Values.rbac.aggregateToDefaultRoles }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: keda:edit"""

# kube-state-metrics templates/role.yaml and _helpers.tpl at kube-state-metrics-8.4.0
KSM_SECRETS = """{{ if has "secrets" $activeCollectors }}
- apiGroups: [""]
  resources:
  - secrets
  verbs: ["list", "watch"]"""
KSM_CLUSTER_ROLE = """{{- if eq $.Values.rbac.useClusterRole false }}
kind: Role
{{- else }}
kind: ClusterRole"""
KSM_ACTIVE = """{{- range $collectors }}
{{- if not (has . $exclude) }}
{{- $final = append $final . }}
{{- end }}
{{- end }}
{{- $final = concat $final $extra | mustUniq }}"""
KSM_EXTRA_RULES = """{{ if $.Values.rbac.extraRules }}
{{ toYaml $.Values.rbac.extraRules }}
{{ end }}"""


def _listed(value: Any) -> list[Any]:
    """A values entry the templates take as a list (a string is a list of one: `kindIs "string"`)."""
    if isinstance(value, str):
        return [value]
    return list(value or [])


def _reads_secrets(rule: Any) -> bool:
    """Whether an RBAC rule (a values entry the chart renders as it is) grants a read of core Secrets."""
    if not isinstance(rule, dict):
        return False
    return (bool({"", "*"} & set(_listed(rule.get("apiGroups")))) and bool({"secrets", "*"} & set(_listed(
        rule.get("resources")))) and bool({"get", "list", "watch", "*"} & set(_listed(rule.get("verbs")))))


def keda_operator_secret_namespaces(inputs: dict[str, Any]) -> set[str]:
    """The namespaces whose Secrets (values included) KEDA's operator may list, for a keda Release's inputs."""
    values = chart_values(inputs)
    if not (values.get("rbac") or {}).get("create", True):
        return set()
    restricted = (((values.get("permissions") or {}).get("operator") or {}).get("restrict") or {}).get("secret")
    if not restricted:
        return {ALL_NAMESPACES}
    certificates = values.get("certificates") or {}
    if (certificates.get("certManager") or {}).get("enabled") or certificates.get("autoGenerated"):
        return {str(inputs.get("namespace"))}
    return set()


def keda_edit_aggregated(inputs: dict[str, Any]) -> bool:
    """Whether a keda Release gives the cluster's `admin` and `edit` roles KEDA's objects (`keda:edit`)."""
    values = chart_values(inputs)
    rbac = values.get("rbac") or {}
    return bool(rbac.get("create", True) and rbac.get("aggregateToDefaultRoles"))


def kube_state_metrics_secret_namespaces(inputs: dict[str, Any]) -> set[str]:
    """The namespaces whose Secrets kube-state-metrics may read, for a kube-prometheus-stack Release's inputs (its
    subchart `kube-state-metrics`, absent when its condition turns it off)."""
    values = chart_values(inputs).get("kube-state-metrics")
    rbac = (values.get("rbac") or {}) if isinstance(values, dict) else {}
    if not isinstance(values, dict) or not rbac.get("create", True):
        return set()
    exclude = _listed(values.get("collectorsExclude"))
    active = [c for c in _listed(values.get("collectors")) if c not in exclude] + _listed(values.get("collectorsExtra"))
    if "secrets" not in active and not any(map(_reads_secrets, _listed(rbac.get("extraRules")))):
        return set()
    if rbac.get("useClusterRole", True) is not False:
        return {ALL_NAMESPACES}
    return {n for n in str(values.get("namespaces") or "").split(",")} or {""}
