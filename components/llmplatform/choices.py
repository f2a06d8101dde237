"""What each choice-valued input allows: one home for the components' checks and the stack config's validation.

Plain data with no Pulumi import, so the config layer reads it without loading any SDK.
"""
TIERS = ("Free", "Standard", "Premium")
NETWORK_POLICIES = ("cilium", "calico", "azure")
UPGRADE_CHANNELS = ("none", "patch", "stable", "rapid", "node-image")
NODE_OS_UPGRADE_CHANNELS = ("None", "Unmanaged", "NodeImage", "SecurityPatch")
API_ACCESS_MODES = ("public", "authorizedIps", "private")
KUBELOGIN_MODES = ("azurecli", "workloadidentity", "spn", "msi", "devicecode")
# Who runs `pulumi up` (Microsoft.Authorization roleAssignments principalType; ARM refuses a mismatch)
DEPLOYER_PRINCIPAL_TYPES = ("User", "ServicePrincipal", "Group")
# kubelogin modes that log in as an application, so the deployer is a service principal
SERVICE_PRINCIPAL_LOGINS = ("workloadidentity", "spn", "msi")
EXPANDERS = ("least-waste", "priority", "random", "most-pods")
GPU_DRIVERS = ("aks", "operator")
GPU_PRIORITIES = ("spot", "regular")
MIG_PROFILES = ("MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g")
# Each profile's GPU instances per GPU and eighths of the GPU's memory per instance (AKS "Multi-instance GPU node
# pool", learn.microsoft.com/azure/aks/gpu-multi-instance, its profile table; NVIDIA's MIG user guide: memory in 8
# slices, compute in 7).
MIG_SLICES = {"MIG1g": (7, 1), "MIG2g": (3, 2), "MIG3g": (2, 4), "MIG4g": (1, 4), "MIG7g": (1, 8)}
SHARE_PROTOCOLS = ("nfs", "smb")
REDUNDANCIES = ("LRS", "ZRS")
MIN_PREMIUM_SHARE_GIB = 100
MAX_PREMIUM_SHARE_GIB = 102400
# Azure Backup's daily snapshots of a file share: kept at most 200 days (its Azure Files support matrix, retention
# limits), at least one
MIN_SNAPSHOT_RETENTION_DAYS = 1
MAX_SNAPSHOT_RETENTION_DAYS = 200
ACCELERATORS = ("cpu", "gpu")
# Open-WebUI's uploads share -> AKS's built-in storage class: Premium is provisioned (100 GiB minimum), Standard
# is billed by the GiB used
UPLOADS_STORAGE_CLASSES = {"premium": "azurefile-csi-premium", "standard": "azurefile-csi"}
TLS_MODES = ("none", "letsencrypt")
# Observability `alert_receiver.kind`: the Alertmanager receivers that read their URL or key from a file
ALERT_RECEIVER_KINDS = ("webhook", "msteams", "slack", "pagerduty")
AUTOSCALING_MODES = ("requests", "gpu-memory", "cpu")
POSTGRES_TIERS = ("Burstable", "GeneralPurpose", "MemoryOptimized")
POD_SECURITY_LEVELS = ("restricted", "baseline", "privileged")
POSTGRES_VERSIONS = ("16", "17", "18")  # 16 and newer (pgvector on Flexible Server; older majors near retirement)
# Azure Front Door (GlobalEndpoint): the managed WAF rule sets need Premium; an origin's first byte is awaited at
# most 240 s (Profile.originResponseTimeoutSeconds, 16-240)
FRONT_DOOR_SKUS = ("Premium_AzureFrontDoor", "Standard_AzureFrontDoor")
WAF_MODES = ("Prevention", "Detection")
# how Front Door reaches the origins (a route's forwardingProtocol and its origin group's probeProtocol): Https checks
# each origin's certificate against its host name; Http forwards plain text
ORIGIN_PROTOCOLS = ("Https", "Http")
MAX_ORIGIN_TIMEOUT_SECONDS = 240
# Front Door Standard/Premium's limits (MicrosoftDocs/azure-docs includes/front-door-limits.md): origins in one origin
# group (both tiers), and in one profile by tier; GlobalEndpoint puts every region in its `ui` and `api` groups
MAX_ORIGINS_PER_GROUP = 50
MAX_ORIGINS_PER_PROFILE = {"Premium_AzureFrontDoor": 200, "Standard_AzureFrontDoor": 100}
# Fleet Manager (FleetUpdates) auto-upgrade channels and node image selection
FLEET_CHANNELS = ("Stable", "Rapid", "NodeImage")
NODE_IMAGE_SELECTIONS = ("Latest", "Consistent")
ZONES = ("1", "2", "3")  # Azure availability zones
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
FAILURE_MODES = ("FailOpen", "FailClose")  # what the gateway does when llm-d's endpoint picker is down
# Open-WebUI (0.11.0): which models its users see (every one, or those an admin granted them) and a new account's
# role (its admin panel also offers 'admin', which no self-service sign-up should get)
WEBUI_MODEL_ACCESS = ("all", "granted")
WEBUI_USER_ROLES = ("pending", "user")
