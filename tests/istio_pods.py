"""The pods the pinned Istio charts run in istio-system, as istio/istio 1.30.3 renders them: only istiod's Deployment
(manifests/charts/istio-control/istio-discovery/templates/deployment.yaml, vendored verbatim in
tests/upstream/charts/istiod/templates/deployment.yaml). The base chart's templates (crds, the default-revision
webhook and ValidatingAdmissionPolicy, the reader ServiceAccount, zzz_profile) and istiod's others (webhooks, RBAC,
ConfigMaps, Service, PDB, HPA, NetworkPolicy) make no pod. The pod spec's security-relevant fields are transcribed
below; tests/components/test_gateway.py checks the transcription against the vendored template's text."""
from typing import Any

SECURITY_CONTEXT_LINES = """          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop:
              - ALL
{{- if .Values.seccompProfile }}
            seccompProfile:
{{ toYaml .Values.seccompProfile | trim | indent 14 }}
{{- end }}"""
# what no line of the template sets (a pod spec key the Pod Security Standards look at)
UNSET_KEYS = ("hostNetwork", "hostPID", "hostIPC", "hostPath", "hostPort", "privileged", "runAsUser", "sysctls",
              "procMount", "windowsOptions", "appArmorProfile", "seLinuxOptions", "add:")


def istiod_pod_spec(values: dict[str, Any]) -> dict[str, Any]:
    """istiod's pod spec for our chart values: the discovery container's securityContext (seccompProfile only when
    the `seccompProfile` value is set), no pod securityContext, and its volumes (emptyDir, projected token, four
    optional secrets or configMaps; extracacerts with jwksResolverExtraRootCA; the `volumes`/`initContainers`
    values appended as given)."""
    sc: dict[str, Any] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                          "capabilities": {"drop": ["ALL"]}}
    if values.get("seccompProfile"):
        sc["seccompProfile"] = values["seccompProfile"]
    volumes: list[dict[str, Any]] = [
        {"name": "local-certs", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {"path": "istio-token"}}]}},
        {"name": "cacerts", "secret": {"secretName": "cacerts", "optional": True}},
        {"name": "istio-kubeconfig", "secret": {"secretName": "istio-kubeconfig", "optional": True}},
        {"name": "istio-csr-dns-cert", "secret": {"secretName": "istiod-tls", "optional": True}},
        {"name": "istio-csr-ca-configmap", "configMap": {"name": "istio-ca-root-cert", "optional": True}},
    ]
    if values.get("jwksResolverExtraRootCA"):
        volumes.append({"name": "extracacerts", "configMap": {"name": "pilot-jwks-extra-cacerts"}})
    spec: dict[str, Any] = {
        "containers": [{"name": "discovery", "securityContext": sc, "ports": [
            {"containerPort": p} for p in (8080, 15010, 15012, 15017, 15014)]}],
        "volumes": volumes + list(values.get("volumes") or []),
    }
    if values.get("initContainers"):
        spec["initContainers"] = list(values["initContainers"])
    return spec
