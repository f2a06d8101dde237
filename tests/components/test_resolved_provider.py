"""llmplatform.resolved_provider.provider_for against the SDK itself: for each way a caller passes providers to a
component, the provider the component's children get (the ComponentResource's `_providers`, as
pulumi/resource.py's Resource._get_providers merges `providers`, `provider` and the parent's) is the one
provider_for names."""
import warnings

import pulumi
import pulumi_kubernetes as k8s
import pytest


def _opts_cases():
    """Each case: a function of (a, b, parent) -> ResourceOptions; a and b two Kubernetes providers, parent a component
    whose providers hold b."""
    return {
        "list": lambda a, b, parent: pulumi.ResourceOptions(providers=[a]),
        "list, two of one package": lambda a, b, parent: pulumi.ResourceOptions(providers=[a, b]),
        "dict": lambda a, b, parent: pulumi.ResourceOptions(providers={"kubernetes": a}),
        "provider": lambda a, b, parent: pulumi.ResourceOptions(provider=a),
        "provider and a list with its package": lambda a, b, parent: pulumi.ResourceOptions(provider=a, providers=[b]),
        "parent's": lambda a, b, parent: pulumi.ResourceOptions(parent=parent),
        "parent's under provider": lambda a, b, parent: pulumi.ResourceOptions(parent=parent, provider=a),
        "parent's under a list": lambda a, b, parent: pulumi.ResourceOptions(parent=parent, providers=[a]),
        "none": lambda a, b, parent: pulumi.ResourceOptions(),
    }


@pytest.mark.parametrize("case", sorted(_opts_cases()))
def test_provider_for_names_the_provider_the_sdk_gives_a_component_s_children(case):
    from llmplatform.resolved_provider import provider_for
    from llmplatform.testing import run
    seen = {}

    def program() -> None:
        a = k8s.Provider("a", kubeconfig="apiVersion: v1")
        b = k8s.Provider("b", kubeconfig="apiVersion: v1")
        parent = pulumi.ComponentResource("test:index:Parent", "parent", opts=pulumi.ResourceOptions(providers=[b]))
        opts = _opts_cases()[case](a, b, parent)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK's warning of a `provider` its `providers` has the package of
            component = pulumi.ComponentResource("test:index:Thing", "thing", opts=opts)
        seen["sdk"] = component._providers.get("kubernetes")
        seen["ours"] = provider_for(opts, "kubernetes")
        seen["names"] = {id(a): "a", id(b): "b", id(None): None}
    run(program)
    names = seen["names"]
    assert names[id(seen["ours"])] == names[id(seen["sdk"])]
