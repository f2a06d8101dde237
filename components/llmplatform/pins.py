"""Every Helm chart and container image the components install, pinned in one place: `data/pins.json`, shipped in
the package and read with importlib.resources.

Image notes (not expressible in JSON): ollama and open-webui are the appVersions of the ollama 1.77.0 and open-webui
16.0.0 charts; the router is the non-root nginx image (port 8080, any uid); Valkey (the Linux Foundation fork of
Redis, BSD licence) carries Open-WebUI's websocket/state fan-out across replicas. The Gateway API CRDs are the
standard-channel bundle whose CRDs the tests validate against. vLLM and the llm-d EPP are pinned to releases (the
chart's own EPP default is the moving `main` tag).
"""
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Optional


@dataclass(frozen=True)
class ChartRef:
    chart: str
    version: str
    repo: str
    upstream_dir: str  # folder name under tests/upstream/charts


_PINS = json.loads(resources.files(__package__).joinpath("data", "pins.json").read_text(encoding="utf-8"))
_CHARTS = {key: ChartRef(**ref) for key, ref in _PINS["charts"].items()}

NVIDIA_DEVICE_PLUGIN = _CHARTS["nvidia_device_plugin"]
GPU_OPERATOR = _CHARTS["gpu_operator"]
ISTIO_BASE = _CHARTS["istio_base"]
ISTIOD = _CHARTS["istiod"]
CERT_MANAGER = _CHARTS["cert_manager"]
KUBE_PROMETHEUS_STACK = _CHARTS["kube_prometheus_stack"]
PROMETHEUS_ADAPTER = _CHARTS["prometheus_adapter"]
DCGM_EXPORTER = _CHARTS["dcgm_exporter"]
KEDA = _CHARTS["keda"]
KEDA_HTTP_ADD_ON = _CHARTS["keda_http_add_on"]
LLM_D_ROUTER_GATEWAY = _CHARTS["llm_d_router_gateway"]  # OCI chart: repo is oci://...
NETWORK_OPERATOR = _CHARTS["network_operator"]  # NVIDIA Network Operator (InfiniBand for P/D)
ALL_CHARTS = tuple(_CHARTS.values())

OLLAMA_IMAGE = _PINS["images"]["ollama"]
OPEN_WEBUI_IMAGE = _PINS["images"]["open_webui"]
ROUTER_IMAGE = _PINS["images"]["router"]
VALKEY_IMAGE = _PINS["images"]["valkey"]
VLLM_IMAGE = _PINS["images"]["vllm"]
LLMD_EPP_IMAGE = _PINS["images"]["llmd_epp"]
LLMD_PD_SIDECAR_IMAGE = _PINS["images"]["llmd_pd_sidecar"]  # llm-d-router's routing sidecar, same release
NRI_ULIMIT_ADJUSTER_IMAGE = _PINS["images"]["nri_ulimit_adjuster"]  # containerd/nri plugin (memlock for NIXL)
ALL_IMAGES = tuple(_PINS["images"].values())

GATEWAY_API_VERSION = _PINS["gateway_api"]["version"]
GATEWAY_API_CRDS_URL = _PINS["gateway_api"]["crds_url"]
# Gateway API Inference Extension (InferencePool v1), the bundle whose CRD the tests validate against.
INFERENCE_EXTENSION_VERSION = _PINS["inference_extension"]["version"]
INFERENCE_EXTENSION_CRDS_URL = _PINS["inference_extension"]["crds_url"]


_IMAGE = re.compile(r"^(?P<registry>[a-z0-9.-]+(?::[0-9]+)?)/(?P<repository>[a-z0-9._/-]+)"
                    r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127})(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")


# An image reference as the container runtimes parse it (distribution/reference 00a09fa3 regexp.go `referencePat`;
# reference.go `Parse`: the repository path, the name less its registry, at most 255): a kubelet given anything else
# fails the pod with InvalidImageName
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::[\w][\w.-]{{0,127}})?"
                        r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?", re.ASCII)


def _repository_path(name: str) -> str:
    """The path of a reference's name as ParseNormalizedNamed hands it to Parse (normalize.go `splitDockerDomain`):
    after a first component that is a registry ('.' or ':' in it, `localhost`, upper case), else the whole name,
    with `library/` before a Docker Hub name of one component."""
    first, slash, rest = name.partition("/")
    registry = slash and (first == "localhost" or any(c in first for c in ".:") or first.lower() != first)
    path = rest if registry else name
    hub = not registry or first in ("docker.io", "index.docker.io")
    return f"library/{path}" if hub and "/" not in path else path


def image_reference_problem(image: str) -> Optional[str]:
    """Why a container runtime cannot pull `image` by its reference (None when it can parse it)."""
    match = _REFERENCE.fullmatch(image)
    if not match or len(_repository_path(match.group("name"))) > 255:
        return ("an image reference a container runtime parses: [registry[:port]/]path[:tag][@digest], the path in "
                "lower case, at most 255 characters, components of letters and digits joined by '.', '_', '__' or "
                "'-', a tag of at most 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'")
    return None


@dataclass(frozen=True)
class ImageRef:
    """A pinned image as pins.json writes it: registry/repository:tag, optionally @sha256:digest."""
    registry: str
    repository: str
    tag: str
    digest: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


def image_repository(image: str) -> str:
    """An image reference's repository, any reference (pinned or not): without its digest and its tag (a ':' after
    the last '/', so a registry's port stays)."""
    base = image.split("@")[0]
    head, _, tail = base.rpartition(":")
    return head if head and "/" not in tail else base


def parse_image(image: str) -> ImageRef:
    """Split a pinned image; the registry host and a tag are required (pins name both explicitly)."""
    match = _IMAGE.match(image)
    if not match:
        raise ValueError(f"image {image!r} is not registry/repository:tag[@sha256:digest]")
    return ImageRef(**match.groupdict())
