"""The in-cluster URLs the components hand out (OllamaServer's `ollama_service`, ApiGate's and LlmdStack's
`router_service`, OpenWebUi's `webui_service`, and InferenceStack's copies) name a Service of the plan, in its
namespace and on one of its ports, qualified by the namespace so that a pod of any namespace resolves them (a bare
`http://router:8080` resolves only in the Service's own namespace)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import variant

URL = re.compile(r"http://(?P<service>[a-z0-9-]+)\.(?P<namespace>[a-z0-9-]+)\.svc:(?P<port>\d+)")


def _service_urls(plan) -> dict[tuple[str, str], str]:
    """(component name, output) -> the URL it registered, for every `*_service` output that holds one
    (Observability's `grafana_service` is `<namespace>/<service>`, for `kubectl port-forward`)."""
    return {(reg.name, key): value for reg in plan.resources if not reg.custom
            for key, value in (reg.outputs or {}).items()
            if key.endswith("_service") and isinstance(value, str) and value.startswith("http")}


def _service_ports(plan) -> dict[tuple[str, str], set[int]]:
    return {(svc.inputs["metadata"]["name"], svc.inputs["metadata"]["namespace"]):
            {port["port"] for port in svc.inputs["spec"].get("ports", [])}
            for svc in plan.of_type("kubernetes:core/v1:Service")}


@pytest.mark.parametrize("name, expected", [
    ("dev", {"ollama_service", "router_service", "webui_service"}),
    ("prod", {"ollama_service", "router_service", "webui_service"}),
    ("llmd", {"ollama_service", "router_service", "webui_service"})])
def test_every_in_cluster_url_names_a_service_port_from_any_namespace(name, expected):
    plan = variant(name)
    urls, services = _service_urls(plan), _service_ports(plan)
    assert {key for _, key in urls} >= expected
    for (component, key), url in sorted(urls.items()):
        found = URL.fullmatch(url)
        assert found, f"{component}.{key} = {url!r} is not http://<service>.<namespace>.svc:<port>"
        ports = services.get((found["service"], found["namespace"]))
        assert ports is not None, f"{component}.{key} = {url!r} names no Service of the plan"
        assert int(found["port"]) in ports, f"{component}.{key} = {url!r}: the Service has ports {sorted(ports)}"
