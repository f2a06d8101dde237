"""The gate-key recipe's `objects` (docs/components/inference-stack.md, "Your own pod calling the gate with its key")
read as the Azure Key Vault provider reads them, and the file it writes the one the pod reads: the CRD takes any
string there, so a recipe without `objectType`, or whose file is not the one `cat` reads, planned clean.
Azure/secrets-store-csi-driver-provider-azure pkg/provider/provider.go (cc9af881): `objects` unmarshalled as
`{array: [string]}`, each string as a KeyVaultObject; `GetKeyVaultObjectContent` refuses an objectType other than
secret, key or cert ("Invalid vaultObjectTypes"); the file is `objectAlias`, else `objectName`. And its pod as Pod
Security Admission judges it in a `restricted` namespace."""
import re

import pytest
import yaml

from tests.components.test_gate_key_recipe import CLASS, consumer, named
from tests.pod_security import restricted_violations

PROVIDER_TYPES = ("secret", "key", "cert")


@pytest.fixture(scope="module")
def plan():
    return consumer(["apps"])


def provider_objects(spc: dict) -> list[dict]:
    """The KeyVaultObjects the provider mounts from a SecretProviderClass's `objects`."""
    outer = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    assert isinstance(outer, dict) and isinstance(outer.get("array"), list), outer
    assert all(isinstance(item, str) for item in outer["array"]), "each object is a YAML string of its own"
    return [yaml.safe_load(item) for item in outer["array"]]


def test_the_provider_fetches_the_gates_key_as_a_secret_into_the_file_the_pod_reads(plan):
    (obj,) = provider_objects(named(plan, CLASS, "caller-secrets").inputs)
    assert obj.get("objectType") in PROVIDER_TYPES and obj["objectType"] == "secret", obj
    assert obj["objectName"] == "llm-api-key"
    file_name = obj.get("objectAlias") or obj["objectName"]
    pod = named(plan, "kubernetes:apps/v1:Deployment", "caller").inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (mount,) = container["volumeMounts"]
    read = re.findall(r"\$\(cat ([^)]+)\)", container["command"][-1])
    assert read == [f"{mount['mountPath']}/{file_name}"], (read, file_name)


def test_the_recipes_pod_runs_in_a_namespace_of_any_pod_security_level(plan):
    """AppNamespace's `pod_security` may be `restricted`; a pod without a securityContext is refused there at
    creation (Pod Security Admission), and `pulumi up` waits for a Deployment that never gets a pod."""
    pod = named(plan, "kubernetes:apps/v1:Deployment", "caller").inputs["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
