"""Section `inference.resources` and `webui.resources` alike: a container's CPU and memory requests and limits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..reader import Reader


@dataclass(frozen=True)
class ResourcesConfig:
    cpu_request: str
    cpu_limit: Optional[str]
    memory_request: str
    memory_limit: str


def parse_resources(r: Reader, default: ResourcesConfig) -> ResourcesConfig:
    res = ResourcesConfig(
        cpu_request=r.str_("cpuRequest", default.cpu_request) or default.cpu_request,
        cpu_limit=r.str_("cpuLimit", default.cpu_limit),
        memory_request=r.str_("memoryRequest", default.memory_request) or default.memory_request,
        memory_limit=r.str_("memoryLimit", default.memory_limit) or default.memory_limit,
    )
    r.reject_unknown_keys()
    return res
