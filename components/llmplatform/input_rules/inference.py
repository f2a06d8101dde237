"""InferenceStack's value rules: its parts' rules run on the inputs it hands each part, named as its own."""
import re
from typing import Any, Callable, Mapping

from ..inference_parts import GATE_INPUTS, OLLAMA_INPUTS, WEBUI_INPUTS
from ..defaults import DEFAULTS
from ..inference_specs import ROUTER_READY_SECONDS, drain_seconds, stop_grace_seconds, wait_budget_seconds
from ..rules import Found, Problem, Rules
from .api_gate import api_gate
from .model_server import ollama_server
from .shared import drain_rule, webui_sharing
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


def inference_stack(args: Mapping[str, Any]) -> list[Problem]:
    """Its parts' rules on what it hands each (a problem two parts share is named once), and its own inputs'."""
    given = args if isinstance(args, Mapping) else {}
    found = Found()
    for rule, inputs in ((ollama_server, OLLAMA_INPUTS), (api_gate, GATE_INPUTS), (open_webui, WEBUI_INPUTS)):
        problems = as_part(rule, inputs, given)
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
        r.add("cold_start_timeout_seconds", cold, f"at most {86400 - answer} with keda: the gate waits "
                                                  f"{r.ref('request_timeout_seconds')} plus this, at most 86400 s")
    timed = {p.path for p in found} & {"request_timeout_seconds", "cold_start_timeout_seconds"}
    if r.args.get("keda") and cold is not None and isinstance(answer, int) and not timed:
        # the gate (and the UI) wait the cold start too, which their part's rule, given the answer's, did not count
        waited = f"{r.ref('request_timeout_seconds')} + {r.ref('cold_start_timeout_seconds')}"
        drain_rule(r, "the gate's nginx pods", stop_grace_seconds(wait_budget_seconds(answer, cold)),
                   f"{waited} + 30 s with keda", "cold_start_timeout_seconds",
                   sharing=DEFAULTS["ApiGate"]["replicas"], ready_seconds=ROUTER_READY_SECONDS)
        if enabled and not any(p.path == "cold_start_timeout_seconds" for p in found):  # said once
            wait = wait_budget_seconds(answer, cold)
            drain_rule(r, "the UI's pods", stop_grace_seconds(drain_seconds(wait)),
                       f"{waited} (at most {drain_seconds(86400)}) + 30 s with keda", "cold_start_timeout_seconds",
                       drain_seconds(wait) - answer, **webui_sharing(r.get("webui_max_replicas")))
    return found
