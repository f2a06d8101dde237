"""A vLLM workload given another served model name: what the pull request's check says of the clients asking for the
old one, which the Deployment's rolling update alone does not tell."""
from typing import Any

from ..pod_specs import pod_spec

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
FLAG = "--served-model-name"
# LlmdStack's vLLM (llmplatform.llmd_stack: `--served-model-name` is `served_name(model)`, the id's last part,
# lowercased)
LLMD_STACK = "llmplatform:index:LlmdStack$"


def _vllm_tokens(container: dict[str, Any]) -> list[str]:
    """The container's command and arguments after `vllm serve` ([] for a container that runs no vLLM server)."""
    tokens = [str(t) for t in (container.get("command") or []) + (container.get("args") or [])]
    starts = [i for i in range(len(tokens) - 1) if tokens[i].rsplit("/", 1)[-1] == "vllm" and tokens[i + 1] == "serve"]
    return tokens[starts[0] + 2:] if starts else []


def served_names(container: dict[str, Any]) -> list[str]:
    """The names vLLM serves the model under, which a request's `model` must be one of: `--served-model-name`'s
    values (one or more), else the model itself, the positional argument of `vllm serve` or `--model` (vLLM's
    ModelConfig `served_model_name`: "If not specified, the model name will be the same as the `--model`
    argument")."""
    tokens = _vllm_tokens(container)
    names: list[str] = []
    model = tokens[0] if tokens and not tokens[0].startswith("-") else None
    for i, token in enumerate(tokens):
        flag, _, value = token.partition("=")
        if flag == FLAG:
            names += [value] if value else _values(tokens[i + 1:])
        elif flag == "--model":
            model = value or next(iter(_values(tokens[i + 1:])), model)
    return names or ([model] if model else [])


def _values(rest: list[str]) -> list[str]:
    """A flag's values: the arguments up to the next option."""
    out = []
    for token in rest:
        if token.startswith("-"):
            break
        out.append(token)
    return out


def _served(inputs: dict[str, Any]) -> list[str]:
    spec = pod_spec(inputs) or {}
    return [n for c in spec.get("containers") or [] if isinstance(c, dict) for n in served_names(c)]


def dropped_name_findings(urn: str, type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any]) -> list[str]:
    """A check line for a vLLM workload that stops serving a model name: vLLM answers a request for a name it does
    not serve with 404 (vllm-project/vllm `vllm/entrypoints/openai/engine/serving.py` `_check_model`: "The model
    `<name>` does not exist.", NotFoundError), and llm-d's picker forwards the request's model as the client sent it
    (llm-d/llm-d-router v0.10.0 `pkg/epp/requestcontrol/director.go` `HandleRequest`: the target model is the
    incoming one unless an InferenceModelRewrite names it, which the program makes none of)."""
    if type_ not in WORKLOADS:
        return []
    now = set(_served(new_inputs))
    dropped = [n for n in dict.fromkeys(_served(old_inputs)) if n not in now]
    if not dropped or not now:
        return []
    names = (f"vLLM serves {', '.join(f'`{n}`' for n in sorted(now))} instead of "
             f"{', '.join(f'`{n}`' for n in dropped)}")
    refused = "a client naming the old model gets vLLM's 404 (\"The model ... does not exist.\")"
    if LLMD_STACK not in urn:
        return [f"{names}: {refused} from each new pod, mixed answers during the rolling update and only 404s after "
                "it; tell its clients the new name and switch them as it deploys"]
    return [f"{names} (stack key `llmd.model`: the served name is its last part, lowercased): the InferencePool keeps "
            "selecting the old name's pods until the rollout ends (its `llm-d.ai/model` selector is the router Helm "
            "release's, which waits for the Deployment), then selects no pod until that release's upgrade lands, "
            f"and after it {refused}, as llm-d's picker passes the request's `model` on unchanged. Tell the clients "
            "the new name (`pulumi stack output llmdModel` after the run) and switch them as it deploys; a client "
            "that picks from `/v1/models` (Open-WebUI, `llm-smoke` without `--model`) follows by itself, though an "
            "Open-WebUI chat begun with the old model needs the new one picked"]
