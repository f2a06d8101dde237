"""A mirror registry (AksCluster `image_registry`, stack key `cluster.imageRegistry`): every image the program's
objects and every chart's rendered images come from it, the nodes are granted AcrPull on it before anything runs
in the cluster, and bad registry inputs are refused."""
from __future__ import annotations

import pytest

from llmplatform.images import mirrored, registry_problem
from llmplatform.input_rules import aks_cluster
from llmplatform.pins import ALL_IMAGES
from llmplatform.testing.stand_ins import cluster_principals
from llmplatform.write_order import MANAGED_CLUSTER
from offline.images import object_images, release_images

from tests.conftest import MIRROR, VARIANTS, variant

REGISTRY = MIRROR["imageRegistry"]
MIRRORED = sorted(name for name, (_, overrides) in VARIANTS.items() if "imageRegistry" in overrides.get("cluster", {}))
ROLE = "azure-native:authorization:RoleAssignment"


def test_the_rewrite_keeps_the_repository_and_drops_the_source_host():
    assert mirrored("docker.io/ollama/ollama:0.32.15", REGISTRY) == f"{REGISTRY}/ollama/ollama:0.32.15"
    assert mirrored("docker.io/library/busybox:1.37", REGISTRY) == f"{REGISTRY}/library/busybox:1.37"
    digest = "sha256:" + "a" * 64
    assert mirrored(f"ghcr.io/x/y:1@{digest}", REGISTRY) == f"{REGISTRY}/x/y:1@{digest}"
    assert mirrored(f"{REGISTRY}/x/y:1", REGISTRY) == f"{REGISTRY}/x/y:1"  # already there
    assert mirrored("quay.io/a/b:2", None) == mirrored("quay.io/a/b:2", "") == "quay.io/a/b:2"


def test_one_mirror_holds_every_pinned_image_apart():
    """Dropping the source host must not make two pinned images one."""
    assert len({mirrored(image, REGISTRY) for image in ALL_IMAGES}) == len(set(ALL_IMAGES))


@pytest.mark.parametrize("registry, ok", [
    ("myacr.azurecr.io", True), ("registry.example.com:5000/team", True), ("localhost", False),
    ("https://myacr.azurecr.io", False), ("MyAcr.azurecr.io", False), ("myacr.azurecr.io/", False), ("", False)])
def test_registry_hosts(registry, ok):
    assert (registry_problem(registry) is None) == ok


def test_aks_cluster_rules_refuse_a_bad_registry_or_an_acr_id_for_another_registry():
    acr = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/" \
          "Microsoft.ContainerRegistry/registries/"
    assert aks_cluster({"image_registry": "myacr.azurecr.io", "image_registry_id": acr + "myacr"}) == []
    assert aks_cluster({"image_registry": "registry.example.com"}) == []
    assert [p.path for p in aks_cluster({"image_registry": "https://x.io"})] == ["image_registry"]
    assert [p.path for p in aks_cluster({"image_registry_id": acr + "myacr"})] == ["image_registry_id"]
    assert [p.path for p in aks_cluster({"image_registry": "myacr.azurecr.io",
                                         "image_registry_id": acr + "other"})] == ["image_registry_id"]
    assert [p.path for p in aks_cluster({"image_registry": "myacr.azurecr.io",
                                         "image_registry_id": "/subscriptions/x/registries/myacr"})] == \
        ["image_registry_id"]


@pytest.mark.parametrize("name", MIRRORED)
def test_every_container_of_the_program_pulls_from_the_mirror(name):
    plan = variant(name)
    images = [image for reg in plan.kubernetes_objects() for image in object_images(reg.inputs)]
    assert images
    assert [i for i in images if not i.startswith(f"{REGISTRY}/")] == []


@pytest.mark.parametrize("name", MIRRORED)
def test_every_image_a_chart_renders_pulls_from_the_mirror(name):
    plan = variant(name)
    for release in plan.helm_releases():
        pulled = list(release_images(release.inputs))
        assert [(source, image) for source, image in pulled if image != mirrored(source, REGISTRY)] == [], \
            release.name


def test_without_a_mirror_images_come_from_upstream(prod):
    images = {image for reg in prod.kubernetes_objects() for image in object_images(reg.inputs)}
    assert images and images <= set(ALL_IMAGES)
    for release in prod.helm_releases():
        assert all(source == image for source, image in release_images(release.inputs)), release.name


@pytest.mark.parametrize("name", MIRRORED)
def test_the_nodes_may_pull_from_the_registry_before_anything_runs_in_the_cluster(name):
    plan = variant(name)
    grant = plan.one(ROLE, "platform-acr-pull")
    assert grant.inputs["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")  # AcrPull
    assert grant.inputs["scope"] == MIRROR["imageRegistryId"]
    assert grant.inputs["principalType"] == "ServicePrincipal"
    # the mocks' kubelet identity of the cluster (identityProfile.kubeletidentity.objectId, as AksCluster wires it)
    assert grant.inputs["principalId"] == cluster_principals(plan.one(MANAGED_CLUSTER))[1]
    assert grant.urn in plan.one("pulumi:providers:kubernetes").dependencies


def test_no_grant_without_a_registry_id(prod):
    assert [r.name for r in prod.of_type(ROLE) if r.name.endswith("acr-pull")] == []


def test_a_custom_epp_image_keeps_its_repository_on_the_mirror():
    """LlmdStack writes the EPP's registry and repository itself; the chart's mirror values replace the registry
    only (helm_release lays them over the component's values)."""
    from llmplatform.images import chart_mirror_values
    from llmplatform.llmd_specs import router_values
    from llmplatform.mappings import deep_merge
    from llmplatform.pins import LLM_D_ROUTER_GATEWAY
    ours = router_values("registry.example.com/team/epp:v9", {"a": "b"}, {}, "FailOpen")
    image = deep_merge(ours, chart_mirror_values(LLM_D_ROUTER_GATEWAY, REGISTRY))["router"]["epp"]["image"]
    assert f"{image['registry']}/{image['repository']}:{image['tag']}" == \
        mirrored("registry.example.com/team/epp:v9", REGISTRY)


def test_a_chart_without_image_data_is_refused_on_a_mirrored_cluster_by_name():
    """A component user's own chart through helm_release: no data, so no way to mirror it (not a traceback)."""
    from llmplatform.checks import ComponentInputError
    from llmplatform.kube import helm_release
    from llmplatform.pins import ChartRef
    from offline import runner as offline
    from tests.components.test_components_alone import provider_opts
    chart = ChartRef(chart="mychart", version="1.0.0", repo="https://charts.example.com", upstream_dir="mychart")

    def program(registry):
        return lambda: helm_release("mine", chart, "ns", {}, provider_opts(), cluster={"image_registry": registry})

    offline.run_function(program(""))  # without a mirror nothing needs the data
    with pytest.raises(ComponentInputError, match="chart mychart: no image data"):
        offline.run_function(program(REGISTRY))


def _aks(**extra):
    """A program building one AksCluster; a callable value is made inside the run (an Output belongs to its loop)."""
    from tests.components.test_components_alone import REQUIRED
    import llmplatform
    return lambda: llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](),
                                                  **{k: v() if callable(v) else v for k, v in extra.items()}})


ACR = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
       "Microsoft.ContainerRegistry/registries/")


def test_an_acr_id_known_only_at_deploy_time_needs_the_mirror_it_is_for():
    """The usual case is another resource's id (acr.id): refused without image_registry before anything registers,
    and compared with the mirror's name once known."""
    import pulumi
    from llmplatform.checks import ComponentInputError
    from offline import runner as offline
    with pytest.raises(ComponentInputError, match="image_registry_id.*only with image_registry"):
        offline.run_function(_aks(image_registry_id=lambda: pulumi.Output.from_input(ACR + "contoso")))
    # once known, as a sentence (a ComponentInputError came back in the SDK's "While processing input: 'scope'")
    with pytest.raises(offline.ProgramError, match="names \\('fabrikam'\\), not 'contoso'") as refused:
        offline.run_function(_aks(image_registry="fabrikam.azurecr.io",
                                  image_registry_id=lambda: pulumi.Output.from_input(ACR + "contoso")))
    assert str(refused.value).startswith("AksCluster ") and "While processing" not in str(refused.value)
    plan = offline.run_function(_aks(image_registry="contoso.azurecr.io",
                                     image_registry_id=lambda: pulumi.Output.from_input(ACR + "contoso")))
    assert plan.one(ROLE, "aks-acr-pull").inputs["scope"] == ACR + "contoso"


def test_the_mirror_is_a_plain_string_and_empty_means_none():
    import pulumi
    from offline import runner as offline
    found = []  # an Output belongs to a run's loop: the rule runs inside one
    offline.run_function(lambda: found.extend(aks_cluster({"image_registry": pulumi.Output.from_input("a.io")})))
    assert [p.path for p in found] == ["image_registry"] and "not an Output" in found[0].reason()
    assert aks_cluster({"image_registry": ""}) == []


@pytest.mark.parametrize("bad", ["https://x.azurecr.io", "X.azurecr.io/", 7, ["a.io"]])
def test_a_hand_built_cluster_handle_with_a_bad_mirror_is_refused_by_name(bad):
    """A ClusterHandle built by hand (from a stack reference, say) never went through AksCluster's rules."""
    from llmplatform import ModelStore
    from llmplatform.checks import ComponentInputError
    from offline import runner as offline
    from tests.components.test_components_alone import REQUIRED, provider_opts
    args = REQUIRED["ModelStore"]()
    args["cluster"] = {**args["cluster"], "image_registry": bad}
    with pytest.raises(ComponentInputError, match="cluster.image_registry: .* is invalid; allowed: "):
        offline.run_function(lambda: ModelStore("store", args, provider_opts()))


def test_your_own_chart_on_a_mirrored_cluster_takes_its_mirror_values():
    from llmplatform.kube import helm_release
    from llmplatform.pins import ChartRef
    from offline import runner as offline
    from tests.components.test_components_alone import provider_opts
    chart = ChartRef(chart="podinfo", version="6.9.0", repo="https://stefanprodan.github.io/podinfo",
                     upstream_dir="podinfo")
    plan = offline.run_function(lambda: helm_release(
        "mine", chart, "ns", {"replicaCount": 2}, provider_opts(), cluster={"image_registry": REGISTRY},
        mirror_values={"image": {"repository": "{registry}/stefanprodan/podinfo"}}))
    values = plan.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    assert values == {"replicaCount": 2, "image": {"repository": f"{REGISTRY}/stefanprodan/podinfo"}}


@pytest.mark.parametrize("bad", ["https://x.azurecr.io", 7])
def test_a_bad_mirror_on_a_cluster_handle_that_arrives_as_an_output_is_a_sentence_once_known(bad):
    """Through the component provider (or from a stack reference) the handle is one output: its mirror is checked
    when the images are named, inside an apply, where a ValueError came back wrapped in the SDK's "While processing"
    chain with a traceback."""
    import pulumi
    from llmplatform import ModelStore
    from offline import runner as offline
    from tests.components.test_components_alone import REQUIRED, provider_opts
    def program() -> None:  # an Output belongs to a run's loop: made inside the run
        args = REQUIRED["ModelStore"]()
        args["cluster"] = pulumi.Output.from_input({**args["cluster"], "image_registry": bad})
        ModelStore("store", {**args, "models": ["qwen2.5:0.5b"]}, provider_opts())
    with pytest.raises(offline.ProgramError) as refused:
        offline.run_function(program)
    message = str(refused.value)
    assert message.startswith(f"ModelStore store: cluster.image_registry: {bad!r} is invalid; allowed: "), message
    assert message.count("cluster.image_registry") == 1, message  # one problem, one sentence
    assert "While processing" not in message and "Traceback" not in message, message
