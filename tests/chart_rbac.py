"""Where the service accounts of the pinned charts may read Secrets, for the values a plan gives a release: the
template lines that grant `secrets`, transcribed from the vendored templates (verbatim copies,
tests/upstream/SOURCES.md) as the conditions they render under. tests/components/test_chart_rbac.py checks each
transcription against the vendored text, so a chart bump that moves a rule fails until it is read again.

- KEDA 2.20.2 (kedacore/charts keda/templates/manager/clusterrole.yaml, minimal-rbac.yaml): the operator's
  ClusterRole lists and watches every Secret of the cluster unless `permissions.operator.restrict.secret`; then its
  Role in the release's namespace does (`list` and `watch` with cert-manager's certificates, `get`, `list`, `watch`
  with the chart's own generated ones), and the operator reads a TriggerAuthentication's or a scale target's secret
  only from its own namespace (kedacore/keda v2.20.2 pkg/scaling/resolver/scale_resolvers.go
  `isSecretAccessRestricted`, `resolveEnv`).
- kube-state-metrics 8.4.0 (prometheus-community/helm-charts charts/kube-state-metrics/templates/role.yaml,
  _helpers.tpl `kube-state-metrics.collectors`): `list` and `watch` on Secrets in a ClusterRole (`rbac.useClusterRole`,
  default true) whenever `secrets` is an active collector: `collectors` less `collectorsExclude`, plus
  `collectorsExtra`.

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


def _listed(value: Any) -> list[Any]:
    """A values entry the templates take as a list (a string is a list of one: `kindIs "string"`)."""
    if isinstance(value, str):
        return [value]
    return list(value or [])


def keda_operator_secret_namespaces(inputs: dict[str, Any]) -> set[str]:
    """The namespaces whose Secrets (values included) KEDA's operator may list, for a keda Release's inputs."""
    values = chart_values(inputs)
    if not (values.get("rbac") or {}).get("create", True):
        return set()
    restricted = ((values.get("permissions") or {}).get("operator") or {}).get("restrict", {}).get("secret")
    return {str(inputs.get("namespace"))} if restricted else {ALL_NAMESPACES}


def kube_state_metrics_secret_namespaces(inputs: dict[str, Any]) -> set[str]:
    """The namespaces whose Secrets kube-state-metrics may list, for a kube-prometheus-stack Release's inputs (its
    subchart `kube-state-metrics`, absent when its condition turns it off)."""
    values = chart_values(inputs).get("kube-state-metrics")
    if not isinstance(values, dict) or not (values.get("rbac") or {}).get("create", True):
        return set()
    exclude = _listed(values.get("collectorsExclude"))
    active = [c for c in _listed(values.get("collectors")) if c not in exclude] + _listed(values.get("collectorsExtra"))
    if "secrets" not in active:
        return set()
    if values["rbac"].get("useClusterRole", True) is not False:
        return {ALL_NAMESPACES}
    return {n for n in str(values.get("namespaces") or "").split(",")} or {""}
