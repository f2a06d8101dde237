"""Handle fields no child component refuses, but the API server, the HTTPRoute CRD or the gate's nginx would at
`pulumi up`, refused by the component given the handle, as its own input, with the value and what is allowed
(docs/decisions.md, "Review of the children's refusals"):
- a model volume's `claim_name` "" (a pod's `persistentVolumeClaim.claimName` is required: kubernetes
  pkg/apis/core/validation validatePersistentClaimVolumeSource) and its `mount_path` "" (a volumeMount's `mountPath`
  is required, and unique in its container: ValidateVolumeMounts; Ollama's container mounts its scratch at /tmp), /
  (the volume would hide the image), or relative (the kubelet mounts it under /, OLLAMA_MODELS reads it as given);
- a route target's listener (the HTTPRoutes' `parentRefs[].sectionName`: a SectionName, gateway-api v1.6.1
  HTTPRoute.yaml, tests/upstream/crds);
- an endpoint's `host_header`, which ApiGate's nginx writes unquoted (`proxy_set_header Host ...;`): a space, `;`,
  `{` or `$` broke or changed its config.
Each case through the kit (built, and given as an output: a field, the whole handle) and through the component
provider, in the schema's names. Values GatewayAccess, ModelStore and OllamaServer hand out, and others the API server
takes, stay accepted."""
from typing import Any, Callable

import pulumi
import pytest

from llmplatform import ComponentInputError
from llmplatform.testing import ProgramError

from tests.components.test_child_refusals import (COMPONENTS, assert_named_as_its_own, host,  # noqa: F401 (a fixture)
                                                  refused_through_the_provider, refusal_of)
from tests.components.test_components_alone import ENDPOINT, REQUIRED, ROUTES, VOLUME

Inputs = dict[str, Any]
WITH_UI = {"database_url_secret": "db-url"}


def volume(**fields: Any) -> Callable[[Inputs], Inputs]:
    return lambda a: {**a, "model_volume": {**VOLUME, **fields}}


def routes(**fields: Any) -> Callable[[Inputs], Inputs]:
    return lambda a: {**a, "route_target": {**ROUTES, **fields}}


def endpoint(**fields: Any) -> Callable[[Inputs], Inputs]:
    return lambda a: {**a, "endpoint": {**ENDPOINT, **fields}}


def with_ui(mutate: Callable[[Inputs], Inputs]) -> Callable[[Inputs], Inputs]:
    return lambda a: mutate({**a, **WITH_UI})


FOUND = [  # (component, the required inputs changed, the path refused, words of the refusal)
    ("InferenceStack", volume(claim_name=""), "model_volume.claim_name",
     "model_volume.claim_name='' is invalid; allowed: a DNS subdomain"),
    ("OllamaServer", volume(claim_name=""), "model_volume.claim_name", "model_volume.claim_name='' is invalid"),
    ("InferenceStack", volume(mount_path=""), "model_volume.mount_path",
     "model_volume.mount_path='' is invalid; allowed: an absolute path"),
    ("OllamaServer", volume(mount_path="/tmp"), "model_volume.mount_path", "/tmp (the server's scratch volume)"),
    ("OllamaServer", volume(mount_path="/tmp/"), "model_volume.mount_path", "model_volume.mount_path='/tmp/'"),
    ("OllamaServer", volume(mount_path="/"), "model_volume.mount_path", "model_volume.mount_path='/'"),
    # Ollama's HOME/.ollama: `ollama serve` writes its key pair there at start, on a read-only mount it exits
    ("OllamaServer", volume(mount_path="/tmp/.ollama/"), "model_volume.mount_path",
     "not /tmp/.ollama or a path under it (where Ollama writes its key pair at start)"),
    # a mount point under it: the runtime makes /tmp/.ollama as root, 0755, and the server (not root) cannot write
    # its key pair there either; Ollama's own default store is such a path
    ("OllamaServer", volume(mount_path="/tmp/.ollama/models"), "model_volume.mount_path",
     "model_volume.mount_path='/tmp/.ollama/models'"),
    ("InferenceStack", volume(mount_path="/tmp//.ollama/./models/"), "model_volume.mount_path",
     "not /tmp/.ollama or a path under it"),
    ("InferenceStack", volume(mount_path="models"), "model_volume.mount_path", "model_volume.mount_path='models'"),
    ("ApiGate", routes(api_listener="API"), "route_target.api_listener",
     "route_target.api_listener='API' is invalid; allowed: a Gateway listener's name"),
    ("ApiGate", routes(api_listener=""), "route_target.api_listener", "route_target.api_listener='' is invalid"),
    ("InferenceStack", routes(api_listener="api listener"), "route_target.api_listener",
     "route_target.api_listener='api listener'"),
    ("OpenWebUi", routes(ui_listener="UI_Listener"), "route_target.ui_listener",
     "route_target.ui_listener='UI_Listener' is invalid; allowed: a Gateway listener's name"),
    ("InferenceStack", with_ui(routes(ui_listener="ui;")), "route_target.ui_listener",
     "route_target.ui_listener='ui;'"),
    ("LlmdStack", routes(llmd_listener="LLMD"), "route_target.llmd_listener", "route_target.llmd_listener='LLMD'"),
    ("ApiGate", endpoint(host_header="a b"), "endpoint.host_header",
     "endpoint.host_header='a b' is invalid; allowed: a host name"),
    ("ApiGate", endpoint(host_header="x; return 200"), "endpoint.host_header", "endpoint.host_header='x; return 200'"),
    ("ApiGate", endpoint(host_header="$host"), "endpoint.host_header", "endpoint.host_header='$host'"),
    ("ApiGate", endpoint(host_header="ollama-scaled.llm:0"), "endpoint.host_header", "port (1-65535)"),
]
FOUND_IDS = [f"{c}-{p}-{i}" for i, (c, _, p, _) in enumerate(FOUND)]


@pytest.mark.parametrize("component, mutate, path, words", FOUND, ids=FOUND_IDS)
def test_a_handle_field_the_api_server_or_nginx_refuses_is_refused_up_front_as_the_input_given(
        component, mutate, path, words):
    error = refusal_of(component, mutate(REQUIRED[component]()))
    assert isinstance(error, ComponentInputError), repr(error)
    assert [e["property_path"] for e in error.errors or []] == [path], error.errors
    assert words in str(error), str(error)
    assert_named_as_its_own(component, error)


TAKEN = [  # what the handles' makers hand out, and other values the API server, the CRD and nginx take
    ("InferenceStack", volume(mount_path="/models")),  # ModelStore's
    ("OllamaServer", volume(mount_path="/tmp/models")),  # under the scratch volume: mounted over it
    ("OllamaServer", volume(mount_path="/tmp/.ollama-models")),  # beside Ollama's key directory, not under it
    ("OllamaServer", volume(mount_path="/srv/ollama/models", claim_name="store.models-1")),
    ("ApiGate", routes(api_listener="api.v1")),  # a SectionName is a DNS subdomain
    ("OpenWebUi", routes(ui_listener="ui-2")),
    ("LlmdStack", routes(llmd_listener="llmd")),
    ("ApiGate", endpoint(host_header="ollama-scaled.llm")),  # OllamaServer's behind KEDA
    ("ApiGate", endpoint(host_header="ollama-scaled.llm:8080")),
    ("ApiGate", endpoint(host_header="Ollama-Scaled.LLM")),  # a host name has no case
    ("ApiGate", endpoint(host_header="")),  # none: the URL's host
]


@pytest.mark.parametrize("component, mutate", TAKEN, ids=[f"{c}-{i}" for i, (c, _) in enumerate(TAKEN)])
def test_what_the_handles_makers_hand_out_is_taken(component, mutate):
    assert refusal_of(component, mutate(REQUIRED[component]())) is None


@pytest.mark.parametrize("component, mutate, path, words", FOUND, ids=FOUND_IDS)
def test_a_handle_field_refused_reaches_another_language_as_the_input_given(host, component, mutate, path, words):
    """Through the component provider: the input in the schema's names (`modelVolume.mountPath`), the same words."""
    message = refused_through_the_provider(host, component, mutate(REQUIRED[component]()), path)
    assert words.split("=", 1)[-1] in message, message


def o(value: Any) -> pulumi.Output[Any]:
    return pulumi.Output.from_input(value)


AS_OUTPUTS = [  # the same, given as outputs (a field, or the whole handle: another stack's, another language's)
    ("InferenceStack", lambda a: {**a, "model_volume": {**VOLUME, "claim_name": o("")}}, "model_volume.claim_name", ""),
    ("OllamaServer", lambda a: {**a, "model_volume": {**VOLUME, "mount_path": o("/tmp/")}}, "model_volume.mount_path",
     "/tmp/"),
    ("InferenceStack", lambda a: {**a, **WITH_UI, "model_volume": o({**VOLUME, "mount_path": ""})},
     "model_volume.mount_path", ""),
    ("ApiGate", lambda a: {**a, "route_target": {**ROUTES, "api_listener": o("API")}}, "route_target.api_listener",
     "API"),
    ("OpenWebUi", lambda a: {**a, "route_target": o({**ROUTES, "ui_listener": "UI"})}, "route_target.ui_listener", "UI"),
    ("InferenceStack", lambda a: {**a, "route_target": o({**ROUTES, "api_listener": "a b"})},
     "route_target.api_listener", "a b"),
    ("InferenceStack", lambda a: {**a, **WITH_UI, "route_target": {**ROUTES, "ui_listener": o("UI")}},
     "route_target.ui_listener", "UI"),
    ("LlmdStack", lambda a: {**a, "route_target": {**ROUTES, "llmd_listener": o("LLMD")}},
     "route_target.llmd_listener", "LLMD"),
    ("ApiGate", lambda a: {**a, "endpoint": {**ENDPOINT, "host_header": o("a b")}}, "endpoint.host_header", "a b"),
    ("ApiGate", lambda a: {**a, "endpoint": o({**ENDPOINT, "host_header": "$host"})}, "endpoint.host_header", "$host"),
]
TAKES = ("claimName", "mountPath", "sectionName")  # where a pod or an HTTPRoute takes the fields


def carries(value: Any, wrong: str) -> bool:
    """An object's inputs hold `wrong` where a pod or a route takes the field, or as the gate's nginx Host."""
    if isinstance(value, dict):
        return any((k in TAKES and v == wrong) or carries(v, wrong) for k, v in value.items())
    if isinstance(value, list):
        return any(carries(v, wrong) for v in value)
    return isinstance(value, str) and f"proxy_set_header Host {wrong};" in value


@pytest.mark.parametrize("component, mutate, path, wrong", AS_OUTPUTS,
                         ids=[f"{c}-{p}-{i}" for i, (c, _, p, _) in enumerate(AS_OUTPUTS)])
def test_a_handle_field_given_as_an_output_is_refused_once_known_before_anything_takes_it(component, mutate, path,
                                                                                         wrong):
    """Refused once the output resolves, in the component's words, and before any object that takes the value (the
    Deployment's pods, the HTTPRoute, the gate's nginx config) is registered with it: not left to the API server."""
    monitor: list[Any] = []

    def given() -> dict[str, Any]:
        monitor.append(pulumi.runtime.settings.SETTINGS.monitor)
        return mutate(REQUIRED[component]())
    error = refusal_of(component, given)
    assert isinstance(error, ProgramError), repr(error)
    assert str(error).startswith(f"{component} mistake: input {path}={wrong!r} is invalid"), str(error)
    assert_named_as_its_own(component, error)
    took = [reg.name for reg in monitor[0].registrations if carries(reg.inputs, wrong)]
    assert not took, took
