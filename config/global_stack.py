"""What the global stack reads from each regional stack (StackReference outputs) and hands to GlobalEndpoint and
FleetUpdates. A regional stack whose outputs lack what the edge needs stops the global stack with one message
naming the stack, the output and why it is needed."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from llmplatform.gateway import API_LISTENER, PLAIN_PORTS, TLS_PORTS, UI_LISTENER

from .regions import short_name  # origin and fleet member names (checked by parse_global)

if TYPE_CHECKING:  # names only: importing the component package here would load every component
    from llmplatform import FleetMemberSpec, RegionalOrigin

# output -> why the global stack needs it
REQUIRED_OUTPUTS = {
    "gatewayExternalAddress": "Front Door's origin for this region over plain HTTP (gateway.mode external or both)",
    "gatewayHostname": "Front Door's origin for this region over HTTPS: the name its certificate is for "
                       "(gateway.tls.hostname), which Front Door sends as SNI and checks the certificate against",
    "clusterId": "the Fleet Manager member (regional stacks export it when edge.globalStack is set)",
    "location": "the region's name in Fleet's update stages",
    "keyVaultName": "the Key Vault the edge writes its API key set into (the region's API gate reads it there)",
    "resourceGroupName": "the resource group of that Key Vault",
    "llmdPort": "Front Door's /llmd route (global.llmdRegions lists it): the region's llm-d listener, which it exports "
                "with llmd.enabled and llmd.exposeExternally",
}


def region_output(ref: pulumi.StackReference, region: str, key: str) -> pulumi.Output[Any]:
    def present(value: Any) -> Any:
        if value is None or value == "":
            fix = ("set llmd.enabled and llmd.exposeExternally in that regional stack and bring it up again (offline: "
                   f"in Pulumi.{region}.yaml), or leave it out of global.llmdRegions" if key == "llmdPort"
                   else f"bring the regional stack up again with its gateway.tls set (Pulumi.{region}.yaml has it: "
                        "the deployed stack predates it)" if key == "gatewayHostname"
                   else "bring the regional stack up with edge.globalStack set")
            raise pulumi.RunError(f"regional stack {region} has no output {key!r}, which the global stack needs for "
                                  f"{REQUIRED_OUTPUTS[key]}: {fix}")
        return value
    return ref.get_output(key).apply(present)


def regional_origins(refs: dict[str, pulumi.StackReference], llmd_regions: tuple[str, ...] = (),
                     https: bool = True) -> list[RegionalOrigin]:
    """Each region's external gateway: over HTTPS at its TLS hostname on GatewayAccess's TLS listeners (443, 8443),
    else at its address on the plain ones (80, 8080); its llm-d listener where `llmd_regions` names it (the port the
    region exports, its TLS one with TLS), and the Key Vault its API gates read the edge's key set from."""
    origins: list[RegionalOrigin] = []
    ports = TLS_PORTS if https else PLAIN_PORTS
    for region, ref in refs.items():
        origin: RegionalOrigin = {
            "name": short_name(region),
            "host": region_output(ref, region, "gatewayHostname" if https else "gatewayExternalAddress"),
            "ui_port": ports[UI_LISTENER], "api_port": ports[API_LISTENER]}
        if region in llmd_regions:
            origin["llmd_port"] = region_output(ref, region, "llmdPort")
        origin["key_vault_name"] = region_output(ref, region, "keyVaultName")
        origin["key_vault_resource_group"] = region_output(ref, region, "resourceGroupName")
        origins.append(origin)
    return origins


def fleet_members(refs: dict[str, pulumi.StackReference]) -> list[FleetMemberSpec]:
    return [{"name": short_name(region), "cluster_id": region_output(ref, region, "clusterId")}
            for region, ref in refs.items()]
