"""The recipe docs/components/inference-stack.md gives for a pod of one's own calling the API gate with its key
("Your own pod calling the gate with its key"), which a stranger had to write by hand (docs/decisions.md, "A stranger
composes the package, round ten"): the page's own Python block, run under `llmplatform.testing.run` in a consumer's
program, its SecretProviderClass checked against the Secrets Store CSI driver's CRD, so the page cannot rot."""
import re
from pathlib import Path
from typing import Any

import pytest

from llmplatform import AppNamespace, InferenceStack, KeyVault, ModelStore, kubernetes_schemas
from llmplatform.testing import Plan, ProgramError, run

from tests.components.test_stranger10_consumer import cluster
from tests.conftest import upstream_dir
from tests.validation import validate_custom

PAGE = Path(__file__).parents[2] / "docs" / "components" / "inference-stack.md"
SECTION = "**Your own pod calling the gate with its key**"
CLASS = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
GRANT = "azure-native:authorization:RoleAssignment"


def page_block() -> str:
    """The section's one Python block, as the page has it."""
    text = PAGE.read_text()
    assert SECTION in text, "the page gives no recipe for a pod of one's own calling the gate"
    (block,) = re.findall(r"```python\n(.*?)```", text.split(SECTION, 1)[1].split("\n**", 1)[0], flags=re.S)
    return block


def consumer(client_namespaces: list[str]) -> Plan:
    """A team's program: an InferenceStack admitting `client_namespaces`, the namespace `apps`, the page's recipe."""
    def program() -> None:
        aks, in_cluster = cluster()
        llm_namespace = AppNamespace("app", {"namespace": "llm"}, in_cluster)
        apps = AppNamespace("apps", {"namespace": "apps"}, in_cluster)
        store = ModelStore("models", {"cluster": aks.cluster, "account_name": "stuiteammodels",
                                      "namespace": llm_namespace.namespace, "models": ["qwen2.5:0.5b"]}, in_cluster)
        vault = KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-ui-team-llm"})
        llm = InferenceStack("llm", {"cluster": aks.cluster, "key_vault": vault.vault, "model_volume": store.volume,
                                     "api_client_namespaces": client_namespaces}, in_cluster)
        exec(compile(page_block(), "inference-stack.md", "exec"),  # noqa: S102
             {"aks": aks, "vault": vault, "llm": llm, "apps": apps})
    return run(program)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return consumer(["apps"])


def named(plan: Plan, kind: str, name: str) -> Any:
    (found,) = [r for r in plan.of_type(kind) if r.name == name]
    return found


def test_the_recipe_plans_and_its_objects_are_what_the_api_server_and_the_csi_driver_take(plan):
    assert kubernetes_schemas.problems(plan) == []
    spc = named(plan, CLASS, "caller-secrets").inputs
    validate_custom(spc, upstream_dir() / "crds")  # the vendored SecretProviderClass CRD (tests/data/crds)
    assert not [w for w in plan.warnings if "caller" in w], plan.warnings  # no advice from the kit


def test_the_pod_mounts_the_gates_key_alone_as_its_identity(plan):
    """The file is the gate's key (`llm-api-key`, whose value the gate's map holds as `Bearer <key>`), read with the
    caller's identity, granted that one secret: not the key map, not the vault."""
    spc = named(plan, CLASS, "caller-secrets").inputs
    gate_spc = named(plan, CLASS, "llm-router-secrets").inputs
    params = spc["spec"]["parameters"]
    identity = named(plan, "llmplatform:index:WorkloadIdentity", "caller-id").outputs
    assert re.findall(r"objectName: (\S+)", params["objects"]) == ["llm-api-key"]
    assert re.findall(r"objectAlias: (\S+)", params["objects"]) == ["api-key"]
    assert "llm-api-key-map" in gate_spc["spec"]["parameters"]["objects"]  # the gate mounts the map, the caller not
    assert params["clientID"] == identity["client_id"]
    assert (params["keyvaultName"], params["tenantId"]) == (gate_spc["spec"]["parameters"]["keyvaultName"],
                                                            gate_spc["spec"]["parameters"]["tenantId"])
    grants = [r.inputs for r in plan.of_type(GRANT) if r.inputs["principalId"] == identity["principal_id"]]
    assert [g["scope"].rsplit("/", 2)[1:] for g in grants] == [["secrets", "llm-api-key"]]


def test_the_pod_sends_the_mounted_key_to_the_gate_and_waits_for_its_grant_and_class(plan):
    deployment = named(plan, "kubernetes:apps/v1:Deployment", "caller")
    pod = deployment.inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (volume,) = pod["volumes"]
    (mount,) = container["volumeMounts"]
    assert volume["csi"] == {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                             "volumeAttributes": {"secretProviderClass": "caller-secrets"}}
    assert mount["name"] == volume["name"] and mount["readOnly"] is True
    assert f'Authorization: Bearer $(cat {mount["mountPath"]}/api-key)' in container["command"][-1]
    assert container["env"] == [{"name": "GATE", "value": "http://router.llm.svc:8080"}]
    assert pod["serviceAccountName"] == "caller" and deployment.inputs["metadata"]["namespace"] == "apps"
    waits = {u.rsplit("::", 1)[1] for u in deployment.dependencies}
    assert {"caller-secrets", "caller-reads-gate-key", "caller-id-federation"} <= waits, waits


def test_without_the_namespace_admitted_the_kit_refuses_naming_the_stacks_input():
    """What the page says: the gate's `router-ingress` admits the namespaces in `api_client_namespaces` alone."""
    with pytest.raises(ProgramError) as refused:
        consumer([])
    assert "llm/router-ingress (NetworkPolicy, " in str(refused.value)
    assert "give InferenceStack 'llm' the caller's namespace in its api_client_namespaces (['apps'])" \
        in str(refused.value)
