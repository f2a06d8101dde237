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

ALL_CHARTS = (NVIDIA_DEVICE_PLUGIN, GPU_OPERATOR)

# Container images the program runs directly (not through a chart), pinned; never `latest`.
OLLAMA_IMAGE = "docker.io/ollama/ollama:0.32.15"  # the ollama chart 1.77.0's appVersion
