"""What the schema says beyond the SDK analyzer's inference: every closed choice as an enum type (so generated SDKs
offer the values and YAML programs are checked against them) and every optional input's default (so the generated
docs and SDKs show it). Both come from the package's one source of each: choices.py and defaults.py.
"""
import re
from typing import Any

from pulumi.provider.experimental.util import camel_case

from . import PACKAGE
from .choices import (ACCELERATORS, API_ACCESS_MODES, AUTOSCALING_MODES, DEPLOYER_PRINCIPAL_TYPES, EXPANDERS,
                      FAILURE_MODES, FLEET_CHANNELS, FRONT_DOOR_SKUS, GPU_DRIVERS, GPU_PRIORITIES, KUBELOGIN_MODES,
                      MIG_PROFILES, NETWORK_POLICIES, NODE_IMAGE_SELECTIONS, NODE_OS_UPGRADE_CHANNELS, ORIGIN_PROTOCOLS,
                      POD_SECURITY_LEVELS, POSTGRES_TIERS, POSTGRES_VERSIONS, REDUNDANCIES, SHARE_PROTOCOLS, TIERS,
                      TLS_MODES, UPGRADE_CHANNELS, UPLOADS_STORAGE_CLASSES, WAF_MODES, WEBUI_MODEL_ACCESS,
                      WEBUI_USER_ROLES, WEEKDAYS)
from .defaults import DEFAULTS
from .input_rules.edge import DRS_RULE_GROUPS, WAF_EXCLUSION_OPERATORS, WAF_EXCLUSION_VARIABLES, WAF_RULE_ACTIONS

# enum type -> (its values, what it is, the (resource or type, Python input) properties it types)
ENUMS: dict[str, tuple[tuple[str, ...], str, tuple[tuple[str, str], ...]]] = {
    "ClusterTier": (TIERS, "AKS pricing tier.", (("AksCluster", "tier"),)),
    "NetworkPolicy": (NETWORK_POLICIES, "Network policy engine.", (("AksCluster", "network_policy"),)),
    "UpgradeChannel": (UPGRADE_CHANNELS, "AKS auto-upgrade channel.", (("AksCluster", "upgrade_channel"),)),
    "NodeOsUpgradeChannel": (NODE_OS_UPGRADE_CHANNELS, "Node OS upgrade channel.",
                             (("AksCluster", "node_os_upgrade_channel"),)),
    "ApiAccessMode": (API_ACCESS_MODES, "How the API server is reached.", (("AksCluster", "api_access_mode"),)),
    "KubeloginMode": (KUBELOGIN_MODES, "How the Kubernetes provider logs in.", (("AksCluster", "kubelogin_mode"),)),
    "DeployerPrincipalType": (DEPLOYER_PRINCIPAL_TYPES, "What runs Pulumi.",
                              (("AksCluster", "deployer_principal_type"),)),
    "AutoscalerExpander": (EXPANDERS, "Cluster-autoscaler expander.", (("AksCluster", "autoscaler_expander"),)),
    "VmPriority": (GPU_PRIORITIES, "Regular or spot VMs.", (("GpuNodePool", "priority"), ("NodePoolSpec", "priority"))),
    "GpuDriver": (GPU_DRIVERS, "Who installs the NVIDIA driver.", (("GpuNodePool", "driver"),)),
    "MigProfile": (MIG_PROFILES, "Multi-Instance GPU profile.", (("GpuNodePool", "mig_profile"),)),
    "ShareProtocol": (SHARE_PROTOCOLS, "File share protocol.", (("ModelStore", "protocol"),)),
    "Redundancy": (REDUNDANCIES, "Storage redundancy.", (("ModelStore", "redundancy"),)),
    "PostgresTier": (POSTGRES_TIERS, "Flexible Server compute tier.", (("PostgresServer", "tier"),)),
    "PostgresVersion": (POSTGRES_VERSIONS, "PostgreSQL major version.", (("PostgresServer", "version"),)),
    "TlsMode": (TLS_MODES, "Gateway TLS.", (("GatewayAccess", "tls_mode"),)),
    "Accelerator": (ACCELERATORS, "Where the model server runs.", (("InferenceStack", "accelerator"),
                                                                   ("OllamaServer", "accelerator"))),
    "UploadsTier": (tuple(UPLOADS_STORAGE_CLASSES), "Azure Files tier of Open-WebUI's uploads.",
                    (("InferenceStack", "webui_uploads_tier"), ("OpenWebUi", "uploads_tier"))),
    "WebUiModelAccess": (WEBUI_MODEL_ACCESS, "Which models Open-WebUI's users see.",
                         (("InferenceStack", "webui_model_access"), ("OpenWebUi", "model_access"))),
    "WebUiUserRole": (WEBUI_USER_ROLES, "Role of a new Open-WebUI account.",
                      (("InferenceStack", "webui_default_user_role"), ("OpenWebUi", "default_user_role"))),
    "AutoscalingMode": (AUTOSCALING_MODES, "What the model server scales on.", (("ModelAutoscaler", "mode"),)),
    "PodSecurityLevel": (POD_SECURITY_LEVELS, "Pod Security Admission level.", (("AppNamespace", "pod_security"),)),
    "FailureMode": (FAILURE_MODES, "What the gateway does when the endpoint picker is down.",
                    (("LlmdStack", "failure_mode"),)),
    "FrontDoorSku": (FRONT_DOOR_SKUS, "Azure Front Door tier.", (("GlobalEndpoint", "sku"),)),
    "WafMode": (WAF_MODES, "WAF policy mode.", (("GlobalEndpoint", "waf_mode"),)),
    "OriginProtocol": (ORIGIN_PROTOCOLS, "How Front Door reaches the origins.",
                       (("GlobalEndpoint", "origin_protocol"),)),
    "WafExclusionVariable": (WAF_EXCLUSION_VARIABLES, "What a WAF exclusion's selector names.",
                             (("WafExclusion", "match_variable"),)),
    "WafExclusionOperator": (WAF_EXCLUSION_OPERATORS, "How a WAF exclusion's selector matches names.",
                             (("WafExclusion", "operator"),)),
    "WafRuleGroup": (tuple(DRS_RULE_GROUPS), "A Microsoft_DefaultRuleSet 2.1 rule group, as the API names it.",
                     (("WafExclusion", "rule_group"), ("WafRuleOverride", "rule_group"))),
    "WafRuleAction": (WAF_RULE_ACTIONS, "What a DRS 2.x rule does when it matches.", (("WafRuleOverride", "action"),)),
    "FleetChannel": (FLEET_CHANNELS, "Fleet auto-upgrade channel.", (("FleetUpdates", "channel"),)),
    "NodeImageSelection": (NODE_IMAGE_SELECTIONS, "Node image selection across the fleet.",
                           (("FleetUpdates", "node_image_selection"),)),
    "Weekday": (WEEKDAYS, "Day of the week.", (("MaintenanceWindowSpec", "day_of_week"),)),
}


def enum_name(value: str) -> str:
    """An identifier every SDK generator accepts for a value: 'node-image' -> NodeImage, '16' -> V16."""
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", value) if part)
    return f"V{name}" if name[:1].isdigit() else name


def _properties(schema: dict[str, Any], owner: str) -> dict[str, Any]:
    token = f"{PACKAGE}:index:{owner}"
    if token in schema.get("resources", {}):
        return schema["resources"][token].get("inputProperties", {})
    return schema.get("types", {}).get(token, {}).get("properties", {})


def enrich(schema: dict[str, Any]) -> dict[str, Any]:
    """Enum types for the closed choices, and the defaults of optional component inputs."""
    for enum, (values, description, uses) in ENUMS.items():
        token = f"{PACKAGE}:index:{enum}"
        schema.setdefault("types", {})[token] = {
            "type": "string", "description": description,
            "enum": [{"name": enum_name(v), "value": v} for v in values]}
        for owner, key in uses:
            prop = _properties(schema, owner).get(camel_case(key))
            if prop is None:
                raise KeyError(f"{owner}.{key}: no such property in the schema")
            prop.pop("type", None)
            prop["$ref"] = f"#/types/{token}"
    for component, defaults in DEFAULTS.items():
        inputs = _properties(schema, component)
        for key, value in defaults.items():
            prop = inputs.get(camel_case(key))
            if prop is not None and isinstance(value, (str, int, float, bool)):
                prop["default"] = value
    return schema
