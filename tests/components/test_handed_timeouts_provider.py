"""The handles' timeouts through the component provider (docs/decisions.md, "The handles' timeouts reviewed"): a
keda handle from another language arrives as one output, so its figures set InferenceStack no default (its own 600 +
1200 s stand) and are judged once they resolve: below them, a per-property error in the schema's names that says
which figures to give, no traceback."""
import copy

import grpc
import pytest
import yaml

from offline import plugin_host

from tests.components.test_provider import YAML_EXAMPLE


@pytest.fixture(scope="module")
def host():
    started = plugin_host.ProviderHost()
    yield started
    started.close()


def test_another_languages_keda_below_the_stacks_defaults_is_refused_naming_the_figures_to_give(host):
    program = yaml.safe_load(YAML_EXAMPLE.read_text())
    resources = {key: copy.deepcopy(program["resources"][key]) for key in ("aks", "vault")}
    resources["aks"]["properties"].pop("logAnalyticsWorkspaceId")
    k8s = {"providers": {"kubernetes": "${aks.provider}"}}
    resources["observability"] = {"type": "llmplatform:index:Observability", "options": k8s, "properties": {
        "cluster": "${aks.cluster}", "keyVault": "${vault.vault}", "appNamespace": "llm", "keda": True,
        "requestTimeoutSeconds": 300, "coldStartTimeoutSeconds": 300}}
    resources["inference"] = {"type": "llmplatform:index:InferenceStack", "options": k8s, "properties": {
        "cluster": "${aks.cluster}", "keyVault": "${vault.vault}", "accelerator": "cpu",
        "modelVolume": {"namespace": "llm", "claimName": "models", "mountPath": "/models"},
        "keda": "${observability.keda}"}}
    with pytest.raises(plugin_host.ConstructFailure) as failure:  # this module's own host: nothing else registered
        plugin_host.run_yaml_program(host, {"resources": resources})
    message = failure.value.message
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT, message
    assert message.startswith("InferenceStack inference: input requestTimeoutSeconds=600 is invalid; allowed: at most "
                              "300, and coldStartTimeoutSeconds at most 300 (neither alone fits)"), message
    assert "give this component requestTimeoutSeconds=300 and coldStartTimeoutSeconds=300" in message, message
    assert "Traceback" not in message and "Traceback" not in host.plugin.stderr()
