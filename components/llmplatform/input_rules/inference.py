"""InferenceStack's value rules: its parts' rules run on the inputs it hands each part, named as its own."""
import re
from typing import Any, Callable, Mapping, Optional

from ..inference_parts import GATE_INPUTS, OLLAMA_INPUTS, WEBUI_INPUTS
from ..defaults import DEFAULTS
from ..inference_specs import ROUTER_READY_SECONDS, drain_seconds, stop_grace_seconds, wait_budget_seconds
from ..rules import Found, Problem, Rules
from .api_gate import api_gate
from .model_server import ollama_server
from ..upgrades import node_drain_seconds
from .shared import drain_rule, interceptor_drain_rule, wait_budget_rule, webui_sharing
from .webui import open_webui


_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\[\]]*)\}")


def as_part(rule: Callable[[Mapping[str, Any]], list[Problem]], inputs: Mapping[str, str],
            args: Mapping[str, Any]) -> Found:
    """A part's rules on the composite's inputs: `inputs` maps each input the composite hands the part (its own name)
    to the part's name for it (InferenceStack's `webui_replicas` is OpenWebUi's `replicas`); the problems and
    declarations come back in the composite's names."""
    back = {part: own for own, part in inputs.items()}

    def own_name(path: str) -> str:
        head = re.match(r"[A-Za-z0-9_]+", path)
        return back.get(head.group(), head.group()) + path[head.end():] if head else path

    found = rule({part: args[own] for own, part in inputs.items() if own in args})
    out = Found(Problem(own_name(p.path), p.value, _REF.sub(lambda m: "{" + own_name(m.group(1)) + "}", p.allowed))
                for p in found)
    out.declared = {own_name(k): v for k, v in getattr(found, "declared", {}).items()
                    if re.split(r"[.\[]", k)[0] in back}  # not what the part decides alone (its defaults)
    return out


def _without_drain(args: Mapping[str, Any]) -> Mapping[str, Any]:
    """`args` with the cluster handle's drain timeout left out: for the gate's and the UI's part rules when requests
    pass the KEDA interceptor, where they wait the cold start too, which those rules (given the answer's timeout
    alone) do not count; the composite judges their drain itself, in full."""
    cluster = args.get("cluster")
    if not isinstance(cluster, Mapping) or "drain_timeout_minutes" not in cluster:
        return args
    return {**args, "cluster": {k: v for k, v in cluster.items() if k != "drain_timeout_minutes"}}


def inference_stack(args: Mapping[str, Any], took: frozenset[str] = frozenset()) -> list[Problem]:
    """Its parts' rules on what it hands each (a problem two parts share is named once), and its own inputs'. `took`:
    the timeouts the component was not given and took from its keda handle (handles.handed_timeouts; the component
    passes it, `stack_rules`): a problem of one is named as the handle's field, with where it came from."""
    found = _inference_stack(args, took)
    return handed_problems(found, took) if took else found


def stack_rules(took: frozenset[str]) -> Optional[Callable[[Mapping[str, Any]], list[Problem]]]:
    """InferenceStack's rules for a component that took `took` from its keda handle (None: none, RULES' own), for its
    check_shape and its late checks alike."""
    return (lambda args: inference_stack(args, took)) if took else None


def handed_problems(found: Found, took: frozenset[str], handle: str = "keda") -> Found:
    """`found` with each problem of a timeout the component took from its `handle` (not given) named as that
    handle's field, and each that names one saying where it came from: the caller never gave the input the rule
    names (Observability's 86400 + 86400 s refused as the stack's `cold_start_timeout_seconds`; a drain refusal
    naming the stack's cold start when both timeouts were the handle's)."""
    def names_one(p: Problem) -> bool:
        return p.path in took or any(f"{{{k}}}" in p.allowed for k in took)
    if not any(names_one(p) for p in found):
        return found
    figures = " and ".join(f"{{{k}}}" for k in sorted(took, reverse=True))
    source = (f"not given, this component took {figures} from {{{handle}}}, the handle's figures: Observability's "
              f"request_timeout_seconds and cold_start_timeout_seconds, or a hand-built handle's; give this "
              f"component its own, or Observability shorter ones")
    out = Found(Problem(f"{handle}.{p.path}" if p.path in took else p.path, p.value, f"{p.allowed} ({source})")
                if names_one(p) else p for p in found)
    out.declared = found.declared
    return out


def _inference_stack(args: Mapping[str, Any], took: frozenset[str]) -> Found:
    given = args if isinstance(args, Mapping) else {}
    cold, answer = given.get("cold_start_timeout_seconds", DEFAULTS["InferenceStack"]["cold_start_timeout_seconds"]), \
        given.get("request_timeout_seconds", DEFAULTS["InferenceStack"]["request_timeout_seconds"])
    waits_cold = bool(given.get("keda")) and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 86400
                                                 for v in (cold, answer)) and answer + cold <= 86400
    found = Found()
    for rule, inputs in ((ollama_server, OLLAMA_INPUTS), (api_gate, GATE_INPUTS), (open_webui, WEBUI_INPUTS)):
        # behind KEDA the gate and the UI wait the cold start too: their drain is judged below, once, in full (the
        # gate's part rule, given the answer's timeout alone, named a drain too short, and a second refusal followed)
        problems = as_part(rule, inputs, _without_drain(given) if waits_cold and rule is not ollama_server else given)
        found.extend(p for p in problems if p not in found)
        found.declared.update({k: v for k, v in problems.declared.items() if k not in found.declared})
    r = Rules(given, "InferenceStack", problems=found)
    enabled = r.args.get("webui_enabled", bool(r.args.get("database_url_secret")))
    if enabled and not r.args.get("database_url_secret"):
        r.add("database_url_secret", None, f"a Key Vault secret name when {r.ref('webui_enabled')} is true")
    cold = r.whole("cold_start_timeout_seconds", 1, 86400)
    answer = r.get("request_timeout_seconds")
    if r.args.get("keda") and cold is not None and isinstance(answer, int) and 1 <= answer <= 86400 \
            and answer + cold > 86400:  # behind KEDA the gate waits both (inference_specs.wait_budget_seconds)
        wait_budget_rule(r, answer, cold, "with keda the gate", took)
    if waits_cold and isinstance(answer, int) and cold is not None:
        interceptor_drain_rule(r, answer, cold)
        # the gate's and the UI's pods wait the cold start too: the one whose node drain takes longer is judged (the
        # other then fits), so the first refusal names the drain that holds both
        waited = f"{r.ref('request_timeout_seconds')} + {r.ref('cold_start_timeout_seconds')}"
        wait = wait_budget_seconds(answer, cold)
        gate = (("the gate's nginx pods", stop_grace_seconds(wait), f"{waited} + 30 s with keda", None),
                {"sharing": DEFAULTS["ApiGate"]["replicas"], "ready_seconds": ROUTER_READY_SECONDS})
        ui = (("the UI's pods", stop_grace_seconds(drain_seconds(wait)),
               f"{waited} (at most {drain_seconds(86400)}) + 30 s with keda", drain_seconds(wait) - answer),
              webui_sharing(r.get("webui_max_replicas")))
        (pods, grace, spent, counted), sharing = max(
            [gate, ui] if enabled else [gate], key=lambda part: node_drain_seconds(part[0][1], **part[1]))
        drain_rule(r, pods, grace, spent, "cold_start_timeout_seconds", counted, **sharing)
    return found
