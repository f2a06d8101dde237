"""ApiGate's value rules."""
from typing import Any, Mapping, Optional

from .. import azure_names as names
from ..inference_specs import ROUTER_RANGE_FIELDS, nginx_workers
from ..rules import Problem, Rules, known, pattern, resources_rules
from .shared import (endpoint_rule, handle_range_rule, host_header_problem, listener_rule, own_key_rule,
                     route_target_rule, router_drain_rule)


def nginx_cpu(value: str) -> Optional[str]:
    """The gate's CPU limit: nginx runs one worker per whole core, counted from cores or millicores."""
    try:
        nginx_workers(value)
        return None
    except ValueError:
        return "a CPU quantity such as 1, 2 or 1500m"


_SEGMENT = r"(?:[A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*)"
ROUTE_PATH = pattern(f"/|(?:/{_SEGMENT})+", "an exact path starting with / (letters, digits, . _ ~ -; a :name "
                     "segment is any one segment), e.g. /v1/chat/completions")


def api_gate(args: Mapping[str, Any]) -> list[Problem]:
    """ApiGate's inputs (the endpoint it guards, key, per-client rate limit, timeouts, its pods)."""
    r = Rules(args, "ApiGate")
    endpoint_rule(r)
    for key in ROUTER_RANGE_FIELDS:  # nginx writes them (realip, the Front Door flag)
        handle_range_rule(r, key)
    header = known(r.args.get("endpoint"), "host_header")
    wrong = host_header_problem(header) if isinstance(header, str) and header else None
    if wrong:  # its nginx sends it upstream: written into the config as given
        r.add("endpoint.host_header", header, wrong)
    route_target_rule(r)
    listener_rule(r, "api_listener")
    replicas = r.whole("replicas", 1, 20)
    if r.get("allowed_paths") == []:
        r.add("allowed_paths", [], "at least one path (omit the input to keep the default)")
    r.texts("allowed_paths", ROUTE_PATH)
    r.texts("client_namespaces", names.dns_label)
    if r.flag("ui_listener") and known(r.args.get("endpoint"), "api") not in (None, "ollama"):
        r.add("ui_listener", True, "false with an `openai` endpoint (the listener forwards Open-WebUI's Ollama routes)")
    r.whole("rate_limit_per_second", 1, 100000)
    r.whole("rate_limit_burst", 0, 100000)
    answer = r.whole("request_timeout_seconds", 1, 86400)
    router_drain_rule(r, answer, replicas)
    r.secret_name("api_key_secret")
    r.secret_name("api_key_map_secret")
    own_key_rule(r)
    r.text("name_prefix", names.name_prefix)
    resources = r.section("resources")
    resources_rules(resources)
    if not any(p.path == resources.path("cpu_limit") for p in r.problems):
        resources.text("cpu_limit", nginx_cpu)
    return r.problems
