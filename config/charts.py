"""Every Helm chart the platform installs, pinned in one place.

Versions are the releases recorded in ../shared/upstream/SOURCES.md; the tests check that each chart here is pinned
to exactly that version and that each values key we set exists in the chart's upstream values.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartRef:
    chart: str
    version: str
    repo: str
    upstream_dir: str  # folder name under ../shared/upstream/charts


NVIDIA_DEVICE_PLUGIN = ChartRef(
    "nvidia-device-plugin", "0.20.0", "https://nvidia.github.io/k8s-device-plugin", "nvidia-device-plugin")
GPU_OPERATOR = ChartRef("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia", "gpu-operator")


# Container images the program runs directly (not through a chart), pinned; never `latest`.
OLLAMA_IMAGE = "docker.io/ollama/ollama:0.32.15"  # the ollama chart 1.77.0's appVersion
OPEN_WEBUI_IMAGE = "ghcr.io/open-webui/open-webui:0.11.0"  # the open-webui chart 16.0.0's appVersion
ROUTER_IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.29.1-alpine"  # non-root nginx (uid 101, port 8080)

ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"
ISTIO_BASE = ChartRef("base", "1.30.3", ISTIO_REPO, "istio-base")
ISTIOD = ChartRef("istiod", "1.30.3", ISTIO_REPO, "istiod")
CERT_MANAGER = ChartRef("cert-manager", "v1.21.1", "https://charts.jetstack.io", "cert-manager")
# Gateway API CRDs (standard channel), the bundle whose CRDs ../shared/upstream/crds holds.
GATEWAY_API_VERSION = "v1.6.1"
GATEWAY_API_CRDS_URL = (f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/"
                        "standard-install.yaml")

ALL_CHARTS = (NVIDIA_DEVICE_PLUGIN, GPU_OPERATOR, ISTIO_BASE, ISTIOD, CERT_MANAGER)

KUBE_PROMETHEUS_STACK = ChartRef("kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts",
                                 "kube-prometheus-stack")
PROMETHEUS_ADAPTER = ChartRef("prometheus-adapter", "5.3.0", "https://prometheus-community.github.io/helm-charts",
                              "prometheus-adapter")
DCGM_EXPORTER = ChartRef("dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts",
                         "dcgm-exporter")
KEDA = ChartRef("keda", "2.20.2", "https://kedacore.github.io/charts", "keda")
KEDA_HTTP_ADD_ON = ChartRef("keda-add-ons-http", "0.15.0", "https://kedacore.github.io/charts", "keda-add-ons-http")

ALL_CHARTS = ALL_CHARTS + (KUBE_PROMETHEUS_STACK, PROMETHEUS_ADAPTER, DCGM_EXPORTER, KEDA, KEDA_HTTP_ADD_ON)
# Valkey (the Linux Foundation fork of Redis, BSD licence): Open-WebUI's websocket/state fan-out across replicas.
VALKEY_IMAGE = "docker.io/valkey/valkey:8.1.4-alpine"
