"""The model store's preload Job given a shorter model list: what the pull request's check says of the models it
drops, which the Job's replacement alone reads as removed."""
from typing import Any

JOB = "kubernetes:batch/v1:Job"
# ModelStore's preload Job (llmplatform.model_store: labels("model-preload", ...)), its list in the MODELS variable
PRELOAD_COMPONENT = "model-preload"


def _models(inputs: dict[str, Any]) -> list[str]:
    """The names in the Job's MODELS variable (the preload script splits it on blanks)."""
    containers = (((inputs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [{}]
    env = {e.get("name"): e.get("value") for e in containers[0].get("env") or [] if isinstance(e, dict)}
    value = env.get("MODELS")
    return value.split() if isinstance(value, str) else []


def dropped_model_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any]) -> list[str]:
    """A check line for models the new preload Job no longer lists: the Job only pulls and Ollama never prunes, so
    each stays on the share, served to the gate's clients and listed by the UI (both read Ollama's `/api/tags`,
    which lists the share), until someone removes it (docs/operations.md, "Adding a model")."""
    labels = (new_inputs.get("metadata") or {}).get("labels") or {}
    if type_ != JOB or labels.get("app.kubernetes.io/component") != PRELOAD_COMPONENT:
        return []
    kept = set(_models(new_inputs))
    dropped = [m for m in _models(old_inputs) if m not in kept]
    if not dropped:
        return []
    return [f"`MODELS` drops {', '.join(f'`{m}`' for m in dropped)} (stack key `modelStore.models`): nothing deletes "
            "a dropped model (the Job only pulls; Ollama never prunes the share), so it stays on the share, taking "
            "its room, and Ollama keeps serving it: clients still reach it through the gate and the UI still lists "
            "it (both ask Ollama's `/api/tags`, which lists the share). To retire it, remove it with `ollama rm` "
            "once no model server warms it (docs/operations.md, \"Adding a model\")"]
