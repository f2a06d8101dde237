"""What each section and key of the stack config is for, in one sentence each: the words of
docs/configuration.md's tables (config/reference.py adds the types, defaults and allowed values from the code)."""

# What each section is for (its heading's sentence).
SECTIONS = {
    "": "Scalar keys, declared in `Pulumi.yaml` with their type, default and description (a test keeps the "
        "declaration and the loader's default equal).",
    "network": "The VNet, its subnets and the cluster's overlay ranges.",
    "cluster": "AKS: pools, access, upgrades.",
    "gpu": "The GPU node pool (scale to zero, spot, optional on-demand fallback) and its NVIDIA software.",
    "modelStore": "The shared model store: an Azure Files Premium share, its volume and the preload Job.",
    "inference": "Ollama, the model server behind the API gate.",
    "webui": "Open-WebUI.",
    "postgres": "PostgreSQL Flexible Server with pgvector, Open-WebUI's database.",
    "keyVault": "The Key Vault every secret of the platform lives in.",
    "gateway": "The Gateway API on Istio, and the API gate's key and rate limit.",
    "observability": "Azure Monitor and the in-cluster monitoring stack.",
    "autoscaling": "How the Ollama model server scales.",
    "llmd": "LlmdStack: vLLM and the llm-d inference scheduler on the GPU pool.",
    "security": "The AKS security baseline's switches.",
    "cost": "What the cost estimate of `make plan` assumes.",
    "edge": "A regional stack's place behind the global stack (Front Door and Fleet Manager).",
}

# The inline system pool's settings AKS fixes at creation (offline/data/replacement_rules.json, refusedInPlace).
FIXED_SYSTEM_POOL = (" Fixed once the pool exists (the pull-request check refuses it in place): a new system pool "
                     "beside it, then `cluster.systemPool.name` (docs/operations.md, \"Scaling node pools\").")

# What each key does. No defaults, allowed values or bounds here: the tables take those from the code.
MEANING = {
    "network.vnetCidr": "VNet address space.",
    "network.nodeSubnetCidr": "Subnet of all node pools; holds `gateway.internalIp`.",
    "network.endpointsSubnetCidr": "Subnet of the private endpoints.",
    "network.postgresSubnetCidr": "Subnet delegated to PostgreSQL Flexible Server.",
    "network.podCidr": "Overlay pod range (must not overlap the VNet). Fixed once the cluster exists: a new one "
                       "replaces the cluster (docs/operations.md, \"Rebuilding the cluster\").",
    "network.serviceCidr": "Kubernetes service range. Fixed once the cluster exists: a new one replaces the cluster "
                           "(docs/operations.md, \"Rebuilding the cluster\").",
    "network.dnsServiceIp": "CoreDNS address, inside `network.serviceCidr`. Fixed once the cluster exists: a new one "
                            "replaces the cluster (docs/operations.md, \"Rebuilding the cluster\").",
    "cluster.kubernetesVersion": "Kubernetes version, e.g. `1.35` (unset: AKS's default). A minor AKS no longer "
                                 "supports on its release calendar (`config/data/aks_kubernetes_versions.json`, dated) "
                                 "is refused; with `cluster.tier` `Premium` (Long-Term Support) one is supported a "
                                 "year longer. The plan warns when its support ends within 60 days or the calendar is "
                                 "over 120 days old. Under an auto-upgrade "
                                 "channel AKS moves it and a later edit is ignored; refused on a Fleet-managed region (the fleet upgrades it).",
    "cluster.zones": "Availability zones of every pool, e.g. `[\"1\",\"2\",\"3\"]`; fixed once a pool exists (new pool names to "
                     "change them). None in a `location` without availability zones (Microsoft's region list, "
                     "vendored in `llmplatform/data/azure_zones.json`).",
    "cluster.systemPool.name": "Name of the system pool, the only pool inline in the cluster. A new name must be a "
                               "pool that already exists: AKS adds no pool through the cluster's update "
                               "(docs/operations.md, \"Scaling node pools\").",
    "cluster.systemPool.vmSize": ("VM size of the system pool (a CPU size; AKS needs 2 vCPU and 4 GiB)."
                                  + FIXED_SYSTEM_POOL),
    "cluster.systemPool.minCount": "Autoscaler minimum of the system pool (at least 1).",
    "cluster.systemPool.maxCount": "Autoscaler maximum of the system pool.",
    "cluster.systemPool.osDiskSizeGb": "OS disk of each system node, GB." + FIXED_SYSTEM_POOL,
    "cluster.systemPool.maxPods": "Pods per system node." + FIXED_SYSTEM_POOL,
    "cluster.systemPool.priority": "AKS runs system pools on regular VMs only.",
    "cluster.workloadPool.name": "Name of the CPU pool that runs the gateway, the UI and CPU inference (label "
                                 "`llm-platform/pool=cpu`).",
    "cluster.workloadPool.vmSize": "VM size of the CPU workload pool; a change replaces the pool (deleted first): use a new "
                                    "`cluster.workloadPool.name` to add the new pool before the old one goes.",
    "cluster.workloadPool.minCount": "Autoscaler minimum of the CPU workload pool; with 0 the pool is still "
                                     "created with one node, so a first `pulumi up` does not wait for one.",
    "cluster.workloadPool.maxCount": "Autoscaler maximum of the CPU workload pool.",
    "cluster.workloadPool.osDiskSizeGb": "OS disk of each CPU workload node, GB."
                                          " Fixed once the pool exists: change it with a new pool name (the pull-request check refuses it in place).",
    "cluster.workloadPool.maxPods": "Pods per CPU workload node."
                                     " Fixed once the pool exists: change it with a new pool name (the pull-request check refuses it in place).",
    "cluster.workloadPool.priority": "`spot`: evicted nodes are deleted and every pod the platform places there "
                                     "tolerates the spot taint. For dev; a prod advisory says so. Fixed once the "
                                     "pool exists: change it with a new `cluster.workloadPool.name` (the "
                                     "pull-request check refuses it in place).",
    "cluster.dedicatedSystemPool": "Taint the system pool `CriticalAddonsOnly=true:NoSchedule`.",
    "cluster.maintenanceWindow": "Weekly window for both upgrade schedules (unset: AKS's own schedule); its keys "
                                 "below apply once it is set.",
    "cluster.maintenanceWindow.dayOfWeek": "Day of the window.",
    "cluster.maintenanceWindow.startTime": "Start, `HH:MM` (24 h).",
    "cluster.maintenanceWindow.durationHours": "Length in hours (AKS needs at least 4).",
    "cluster.maintenanceWindow.utcOffset": "Offset of `startTime` from UTC, e.g. `+01:00`.",
    "cluster.apiAccess.mode": "Who reaches the API server: anyone (Entra ID still guards it), `authorizedIpRanges` "
                              "only, or a private cluster. `private` is fixed when the cluster is created: AKS "
                              "turns it on or off only with API Server VNet Integration (the pull-request check "
                              "refuses it in place).",
    "cluster.apiAccess.authorizedIpRanges": "Ranges admitted with mode `authorizedIps` (required there, refused "
                                            "otherwise).",
    "cluster.adminGroupObjectIds": "Entra groups made cluster admins (and Grafana Admins of Managed Grafana).",
    "cluster.tier": "AKS tier (`Standard` and `Premium` carry the uptime SLA; `Premium` also takes AKS's "
                    "Long-Term Support plan, a year of support past a minor's end of life).",
    "cluster.disableLocalAccounts": "Entra ID only: no static admin kubeconfig.",
    "cluster.networkPolicy": "Network policy engine (`cilium` with the Cilium dataplane). Fixed once the cluster "
                             "exists: pulumi-azure-native replaces the cluster on a new `networkPolicy` or "
                             "`networkDataplane` (the pull-request check blocks it; the share, the database and "
                             "the vault stay: docs/operations.md, \"Rebuilding the cluster\").",
    "cluster.upgradeChannel": "AKS auto-upgrade channel (`none` on a regional stack Fleet Manager upgrades).",
    "cluster.nodeOsUpgradeChannel": "Node OS image upgrades.",
    "cluster.kubeloginMode": "How the program's Kubernetes provider logs in: `azurecli` (people; the repository's "
                             "GitHub workflow keeps it in the kubeconfig and turns it into workload identity with "
                             "`AAD_LOGIN_METHOD`), or `workloadidentity`/`spn` for other CI (docs/operations.md).",
    "cluster.grantDeployerAdmin": "Grant the identity running `pulumi up` AKS RBAC Cluster Admin.",
    "cluster.deployerPrincipalType": "What runs `pulumi up`: the grant's principalType. Unset: `ServicePrincipal` "
                                     "when `cluster.kubeloginMode` logs in as an application (`workloadidentity`, "
                                     "`spn`, `msi`), else `User`; set it when an Azure CLI login is a service "
                                     "principal.",
    "cluster.imageRegistry": "Mirror registry every image is pulled from (e.g. `myregistry.azurecr.io`), charts' "
                             "images included: for an Azure Policy that allows only your registries. Unset: each "
                             "image's upstream registry. docs/images.md: what to mirror (`make images`).",
    "cluster.imageRegistryId": "Resource id of the Azure Container Registry behind `cluster.imageRegistry`: the "
                               "nodes' kubelet identity gets AcrPull on it. Unset: the nodes can already pull.",
    "gpu.enabled": "Create the GPU pool (it costs nothing while scaled to zero).",
    "gpu.poolName": "Pool name; the on-demand fallback pool is `<poolName>od`.",
    "gpu.vmSize": "A size of the GPU SKU catalog (`components/llmplatform/data/gpu_skus.json`: T4, A10, V100, A100, "
                  "H100 and H200 sizes); a change replaces the pools (deleted first): use a new `gpu.poolName` "
                  "to add the new pools before the old ones go.",
    "gpu.minCount": "Autoscaler minimum (0 scales to zero).",
    "gpu.maxCount": "Autoscaler maximum.",
    "gpu.priority": "`spot` (eviction deletes the node) or `regular`. Fixed once the pool exists: change it with a "
                    "new `gpu.poolName` (the pull-request check refuses it in place).",
    "gpu.spotMaxPrice": "Highest spot price, USD/hour; -1 pays up to the on-demand price. Fixed once the pool exists: "
                        "change it with a new `gpu.poolName` (the pull-request check refuses it in place).",
    "gpu.fallback.enabled": "An on-demand pool with the same labels, which the autoscaler tries after spot.",
    "gpu.fallback.minCount": "Autoscaler minimum of the fallback pool: above 0, that many on-demand GPU nodes "
                             "run whether spot has capacity or not (nothing moves a running pod back to spot).",
    "gpu.fallback.maxCount": "Autoscaler maximum of the fallback pool.",
    "gpu.upgradeMaxSurge": "Nodes an upgrade adds to the on-demand GPU nodes (a `regular` pool, or the fallback) "
                           "before it drains old ones: a number (`1`) or a percentage (`33%`), each of the GPU "
                           "family's quota. Unset: upgraded in place, one node (one model-server replica) down at a "
                           "time. Refused on a spot pool without a fallback (AKS upgrades spot without surge).",
    "gpu.driver": "`aks`: AKS installs the driver, the NVIDIA device plugin chart runs; `operator`: no AKS driver, "
                  "the NVIDIA GPU Operator (not on A10 sizes, which take AKS's GRID driver). Fixed once the pool "
                  "exists: change it with a new `gpu.poolName` (the pull-request check refuses it in place).",
    "gpu.osDiskSizeGb": "OS disk of each GPU node, GB; with llmd it also holds each vLLM pod's model download."
                        " Fixed once the pool exists: change it with a new pool name (the pull-request check refuses it in place).",
    "gpu.maxPods": "Pods per GPU node."
                   " Fixed once the pool exists: change it with a new pool name (the pull-request check refuses it in place).",
    "gpu.migProfile": "MIG slice per GPU (unset: whole GPUs); A100, H100 and H200 sizes only. A change replaces the "
                      "pools (deleted first), as `gpu.vmSize` does: use a new `gpu.poolName` with it.",
    "gpu.zones": "Zones of the GPU pools (empty: the cluster's); none in a `location` without availability zones. "
                 "Fixed once the pool exists: change it with a new `gpu.poolName` (the pull-request check refuses it "
                 "in place).",
    "gpu.regional": "GPU pools in no zone, in a zonal cluster too: VMs wherever the size has capacity (refused with `gpu.zones`)."
                 " Fixed once the pool exists: change it with a new pool name (the pull-request check refuses it in place).",
    "modelStore.protocol": "`nfs` (4.1, no account key, subnet-restricted) or `smb`.",
    "modelStore.sizeGib": "Provisioned share size; must leave 10 % of itself free above the models to preload (not "
                          "with `modelStore.preload` off or `preloadDryRun`: nothing is pulled; models dropped from "
                          "the list stay on the share: the preload Job checks the room left before it pulls).",
    "modelStore.redundancy": "Storage redundancy (Premium: `LRS` or `ZRS`; `ZRS` only where Azure offers it for SSD "
                             "file shares, `llmplatform/data/azure_service_regions.json`).",
    "modelStore.checkRegionOffers": "`false` only for a share that exists as `ZRS` in a region Microsoft's page no "
                                    "longer lists with ZRS SSD file shares: it keeps ZRS, and the refusal would stop "
                                    "the stack for good (the plan then warns instead). A new share there is refused "
                                    "by Azure (unless the region gained ZRS since the page was read: the key is the "
                                    "way out then too).",
    "modelStore.resourceGroupName": "A resource group of its own, so the store outlives the cluster.",
    "modelStore.models": "Models the preload Job pulls, each an Ollama model name: a catalogue name "
                         "(`config/data/ollama_models.json`, with its size), an untagged library name whose `latest` "
                         "the catalogue records (`gpt-oss`, `deepseek-r1`), or any other name Ollama pulls "
                         "(`hf.co/<org>/<repo>:<quant>`, another library tag) as an object with its download size: "
                         "`{name: ..., sizeGib: 0.8}` (`--path 'modelStore.models[1].name'` and `...[1].sizeGib`). "
                         "The sizes count in the share's room, Ollama's memory (GPU, or `inference.resources."
                         "memoryLimit` on CPU) and the Job's deadline.",
    "modelStore.preload": "Pull the models (off: the Job only lays the store out, and no replica warms a model: "
                           "`inference.warmModel` `auto` is none, a model named is refused).",
    "modelStore.preloadDryRun": "The Job only lists what it would pull (and no replica warms a model, as with "
                                 "`modelStore.preload` off).",
    "modelStore.snapshots": "Daily snapshots of the share by Azure Backup (a Recovery Services vault `rsv-<account>` "
                            "in the store's group); `smb` only: Azure Backup does not back up NFS shares, so "
                            "`true` with `protocol` `nfs` is refused. A restore is the operator's "
                            "(docs/operations.md, \"Restoring the model share from a snapshot\").",
    "modelStore.snapshotRetentionDays": "Days each daily snapshot is kept (Azure Files backup keeps them at most 200).",
    "modelStore.snapshotTime": "When the daily snapshot is taken: `HH:MM` UTC, on the hour or half hour.",
    "inference.accelerator": "`cpu` (CPU pool) or `gpu` (GPU pool, `nvidia.com/gpu` requested): the one switch.",
    "inference.replicas": "Ollama replicas (the starting count when autoscaled); at least 1 in prod.",
    "inference.resources.cpuRequest": "Ollama's CPU request.",
    "inference.resources.cpuLimit": "Ollama's CPU limit (at least the request).",
    "inference.resources.memoryRequest": "Ollama's memory request.",
    "inference.resources.memoryLimit": "Ollama's memory limit (at least the request); on CPU it must hold each model "
                                       "to preload plus Ollama's overhead: 1 GiB + its KV cache, Ollama's own "
                                       "estimate from the model's shape (the catalogue's; a declared model counts "
                                       "0.5 GiB per 4096 tokens), for `inference.contextLength` tokens (4096 unset; "
                                       "capped at its trained context) x `inference.numParallel`.",
    "inference.gpusPerReplica": "GPUs per replica in GPU mode (at most the size's GPUs).",
    "inference.numParallel": "`OLLAMA_NUM_PARALLEL`: requests one loaded model serves at once.",
    "inference.maxLoadedModels": "`OLLAMA_MAX_LOADED_MODELS`.",
    "inference.contextLength": "`OLLAMA_CONTEXT_LENGTH`, tokens per request unless it sets `num_ctx` (each model's "
                               "trained length caps it); unset: "
                               "Ollama's default by GPU memory, 262144 from 47 GiB, whose KV cache times "
                               "`numParallel` lets one 8B model fill an 80 GB GPU (`make plan` warns where two "
                               "generating models then, or at the length given, may not stay loaded together, "
                               "and names a length that keeps them).",
    "inference.keepAlive": "`OLLAMA_KEEP_ALIVE` (`0` unloads at once, `-1` never).",
    "inference.warmModel": "A model of `modelStore.models` each replica loads before it is Ready (its startup probe "
                           "runs Ollama's preload, `ollama run <model> \"\"`), so a new replica takes traffic warm; "
                           "`none`: the first request loads it. Default: the first preloaded model that is not "
                           "embedding-only.",
    "webui.enabled": "Deploy Open-WebUI (with Valkey, its uploads volume and its PostgreSQL server, the only "
                     "user of PostgreSQL here: off, no server is created and the `postgres.*` settings go unread).",
    "webui.clientNamespaces": "Namespaces whose pods may open Open-WebUI in-cluster (the Gateways' namespace may when "
                              "it is published; default none).",
    "webui.replicas": "Replicas, the HPA's minimum (CPU 70 %).",
    "webui.maxReplicas": "The HPA's maximum. Each pod holds up to 7 PostgreSQL connections, and the Terminating pods "
                         "of two replacements (rollouts, the autoscaler's, a node upgrade's) keep theirs while they "
                         "finish their answers (three times the maximum): the worst case must fit "
                         "`postgres.skuName`'s (35 on `Standard_B1ms`: at most 1; 414 on `Standard_B2s`: 19).",
    "webui.resources.cpuRequest": "Open-WebUI's CPU request.",
    "webui.resources.cpuLimit": "Open-WebUI's CPU limit.",
    "webui.resources.memoryRequest": "Open-WebUI's memory request.",
    "webui.resources.memoryLimit": "Open-WebUI's memory limit.",
    "webui.uploadsSizeGib": "RWX volume for uploads shared by the replicas (at least 100 GiB on `premium`).",
    "webui.uploadsTier": "`premium` (Azure Files Premium, provisioned) or `standard` (billed by the GiB used).",
    "webui.backend": "The model the UI fronts: Ollama's, or llm-d's through its API gate, in its namespace (needs "
                     "`llmd.enabled`; the Ollama stack then runs without a UI of its own).",
    "webui.modelAccess": "`all`: every signed-in user sees every model; `granted`: Open-WebUI's access control (a "
                         "model is listed to admins only until an admin shares it).",
    "webui.enableSignup": "Anyone who reaches the UI may create an account (an advisory on a public UI). With the "
                          "Ollama backend written to the UI's database when it changes here; Admin Panel → "
                          "Settings decides in between (docs/operations.md).",
    "webui.defaultUserRole": "A new account's role: `pending` waits for an admin's approval. Read when "
                             "`webui.enableSignup` is.",
    "webui.adminEmail": "The first admin, created at the UI's first start with a generated password in Key Vault "
                        "(`<inference|llmd>-webui-admin-password`). Unset: whoever signs up first is admin (refused "
                        "on a public UI in prod, an advisory elsewhere).",
    "webui.extraEnv": "More Open-WebUI settings, plain values (e.g. `webui.extraEnv.WEBUI_URL`); what the platform "
                      "sets, names that look like secrets and names Open-WebUI reads in place of one the platform "
                      "sets (`OLLAMA_BASE_URLS`, `PORT`, `REDIS_CLUSTER: true`, ...: docs/components/"
                      "inference-stack.md) are refused. With the Ollama backend, Open-WebUI's persistent settings "
                      "here are written to its database when they change.",
    "webui.secretEnv": "Open-WebUI settings whose value is a Key Vault secret: variable → secret name (e.g. "
                       "`webui.secretEnv.MICROSOFT_CLIENT_SECRET`); exported at start, never in the pod spec.",
    "postgres.version": "PostgreSQL major version.",
    "postgres.tier": "Compute tier.",
    "postgres.skuName": "A size of that tier (`Standard_B…`, `Standard_D…`, `Standard_E…`; "
                        "`config/data/`; any case, planned as the catalog spells it). Its connection limit bounds "
                        "`webui.maxReplicas`.",
    "postgres.storageSizeGb": "Initial storage; auto-grow is on.",
    "postgres.backupRetentionDays": "Days of point-in-time backups.",
    "postgres.geoRedundantBackup": "Backups copied to the paired region (not where Microsoft's regions table shows none, "
                                   "`llmplatform/data/azure_service_regions.json`; set at creation only).",
    "postgres.highAvailability": "Zone-redundant standby (not on `Burstable`, nor where Microsoft's regions table shows "
                                 "no zone-redundant HA).",
    "postgres.checkRegionOffers": "`false` only for a server that exists with `highAvailability` or "
                                  "`geoRedundantBackup` in a region Microsoft's regions table no longer lists with "
                                  "them: it keeps them (geo-redundant backup cannot be turned off in place), and the "
                                  "refusal would stop the stack for good (the plan then warns instead). A new server "
                                  "there is refused by Azure (unless the region gained them since the table was read: "
                                  "the key is the way out then too).",
    "postgres.database": "Open-WebUI's database. A new name is a new, EMPTY database: created, given the UI's role and "
                         "pgvector, migrated, the UI restarted onto it, and the old one deleted with its data "
                         "(blocked by the PR check until allowed, protected in prod; docs/operations.md, \"Renaming "
                         "Open-WebUI's database\", moves the data).",
    "postgres.entraAdminGroupId": "Object id of the Entra group made the server's Microsoft Entra administrator "
                                  "(Entra sign-in is on only with one); goes with `entraAdminGroupName`.",
    "postgres.entraAdminGroupName": "That group's display name.",
    "keyVault.softDeleteRetentionDays": "Days a deleted vault or secret can be recovered; set at the vault's creation, "
                                         "Azure keeps it after.",
    "keyVault.purgeProtection": "No purge before the retention ends. Cannot be turned off once on.",
    "keyVault.publicNetworkAccess": "`false`: private endpoint only; `true` still denies all but the node subnet.",
    "gateway.mode": "Which Gateways: `internal` (private load balancer), `external` (static public IP), both or "
                    "none.",
    "gateway.internalIp": "Private IP of the internal load balancer, a usable address of "
                          "`network.nodeSubnetCidr`; unset, the default where that subnet holds it, else five "
                          "below the subnet's broadcast address.",
    "gateway.replicas": "Gateway (Envoy) replicas per Gateway.",
    "gateway.rateLimitPerSecond": "Per-client limit of the API gate (excess answers 429). Each router pod enforces "
                                  "its share (rate ÷ pods, per minute), so the pods together admit the rate.",
    "gateway.rateLimitBurst": "Requests over the rate a client may send at once before 429s.",
    "gateway.apiKeyAuth": "Bearer key on the model APIs (in the Key Vault secret the `apiKeySecret` output names).",
    "gateway.clientNamespaces": "Other namespaces whose pods may call the model APIs' gates in-cluster, with the key "
                                "(both gates admit the Gateways' namespace, Ollama's its own; default none).",
    "gateway.requestTimeoutSeconds": "The longest answer: route, router and interceptor timeouts derive from it.",
    "gateway.tls.mode": "`letsencrypt` issues a certificate for `hostname` (HTTP-01 on the external gateway; behind "
                        "Front Door on an `acme-gateway` of its own, port 80, the challenge path only). Required "
                        "in prod with an external gateway, behind Front Door too.",
    "gateway.tls.hostname": "DNS name of the certificate (with `letsencrypt`); behind Front Door also the name Front "
                            "Door reaches the region at over HTTPS (the `gatewayHostname` output). Its A record: "
                            "`gatewayExternalAddress`.",
    "gateway.tls.email": "ACME account e-mail (with `letsencrypt`).",
    "observability.enabled": "Azure Monitor (if `azureMonitor`) and the in-cluster stack (kube-prometheus-stack, "
                             "DCGM exporter, KEDA).",
    "observability.clientNamespaces": "Other namespaces whose pods may query the in-cluster Prometheus and reach "
                                      "Alertmanager and Grafana (a team's own dashboards); besides them only the "
                                      "monitoring namespace and KEDA's operator may (default none).",
    "observability.azureMonitor": "Log Analytics + Container Insights, managed Prometheus and the Azure alert rules; "
                                  "`false` keeps only the in-cluster stack (dev; refused in prod, and with Defender, "
                                  "diagnostics or Managed Grafana).",
    "observability.logRetentionDays": "Log Analytics retention.",
    "observability.insightsAgentConfig": "Write Container Insights' agent ConfigMap "
                                         "(`kube-system/container-azm-ms-agentconfig`: Normal events, the "
                                         "autoscalers' among them, reach KubeEvents); `false` leaves it to you, "
                                         "and Normal events then need your own `collect_all_kube_events`. Needs "
                                         "`azureMonitor`.",
    "observability.insightsAgentSettings": "Your own settings in that ConfigMap: its TOML tables by the names the "
                                           "agent's parsers read (a name they do not read is refused naming the "
                                           "nearest), table, section, setting "
                                           "(`log_collection_settings: {stdout: {exclude_namespaces: [kube-system, "
                                           "gatekeeper-system, noisy]}}`), written over Observability's setting by "
                                           "setting; `collect_all_kube_events` stays on, "
                                           "`agent_settings.high_log_scale` off. Needs `insightsAgentConfig`.",
    "observability.managedGrafana": "Azure Managed Grafana on the managed Prometheus workspace.",
    "observability.grafanaName": "Managed Grafana's workspace name, where it is not the derived one "
                                 "(`graf-<prefix>-<environment>-<hash of the subscription>`, or "
                                 "`graf-<prefix>-<environment>` with `legacyGlobalNames`): a stack whose workspace "
                                 "was created under another name (its hashless name, by a release before the hash) "
                                 "keeps it by naming it here. Azure refuses a name another workspace holds in any "
                                 "resource group or subscription of the tenant (NameNotUnique); needs "
                                 "`managedGrafana`.",
    "observability.alertEmails": "Action group recipients: at most 1000 addresses of at most 64 characters "
                                 "(Azure Monitor's limits), each once (compared without case; elsewhere than prod, "
                                 "none is an advisory: the Azure alerts notify nobody); needs `azureMonitor`, whose "
                                 "action group sends them.",
    "observability.monthlyBudget": "An Azure Consumption budget (monthly, subscription scope) over the stack's "
                                   "resource groups: the platform's, AKS's node group (the VMs, GPU pools included) "
                                   "and a separate `modelStore.resourceGroupName`; the on-call action group is told "
                                   "at 80 % and 100 % actual and 100 % forecast cost. In the billing account's "
                                   "currency (the plan's cost.json is USD list prices); needs `alertEmails`. Unset: "
                                   "no budget (prod: an advisory).",
    "observability.grafanaViewerGroupIds": "Entra groups given Grafana Viewer on Managed Grafana "
                                           "(`cluster.adminGroupObjectIds` get Grafana Admin).",
    "observability.prometheusRetention": "In-cluster Prometheus retention (a Prometheus duration).",
    "observability.prometheusStorageGib": "In-cluster Prometheus disk.",
    "observability.grafanaStorageGib": "Grafana's persistent volume.",
    "observability.latencySloSeconds": "p95 gateway latency the alert checks.",
    "observability.errorRatioSlo": "Share of 5xx gateway responses that alerts (between 0 and 1).",
    "observability.gpuMemoryAlertPercent": "GPU memory alert threshold.",
    "observability.gpuFallbackAlertHours": "Hours the GPU pool's on-demand fallback (gpu.fallback) may run more "
                                           "nodes than its minCount before GpuFallbackNodesRunning fires: nothing "
                                           "moves their model servers back to spot, and each bills the on-demand "
                                           "price.",
    "observability.vllmDashboard": "Also load the vLLM / llm-d dashboard.",
    "observability.alertReceiver.kind": "Where the in-cluster Alertmanager sends every alert (the platform's "
                                        "PrometheusRule and kube-prometheus-stack's) but Watchdog and InfoInhibitor: "
                                        "`webhook` (a generic webhook URL), `msteams` (a Teams Workflows webhook URL), "
                                        "`slack` (an incoming-webhook URL) or `pagerduty` (an Events API v2 "
                                        "integration key); with `secret`. Unset: nowhere (the chart's receiver "
                                        "`null`; the plan warns).",
    "observability.alertReceiver.secret": "Key Vault secret holding that URL or key, written there before "
                                          "`pulumi up`; Alertmanager alone reads it, as a file (CSI driver, "
                                          "workload identity).",
    "autoscaling.mode": "`requests`: KEDA on in-flight requests per replica (+ CPU on a CPU); `gpu-memory`: "
                        "Prometheus Adapter + HPA; `cpu`: HPA; `none`.",
    "autoscaling.minReplicas": "Lower bound; 0 needs `scaleToZero`.",
    "autoscaling.maxReplicas": "Upper bound.",
    "autoscaling.targetInFlight": "In-flight requests per replica KEDA aims for.",
    "autoscaling.scaleToZero": "Dev, `requests` mode: the interceptor holds requests while a replica (and a GPU "
                               "node) starts.",
    "autoscaling.gpuMemoryTargetPercent": "GPU memory per replica before scaling out, `gpu-memory` mode.",
    "autoscaling.cpuTargetPercent": "CPU per replica before scaling out: `cpu` mode's signal, the second in "
                                    "`gpu-memory` mode and in `requests` mode on a CPU (none on a GPU).",
    "autoscaling.scaleDownStabilizationSeconds": "Scale down slowly (a model reload costs minutes).",
    "autoscaling.coldStartTimeoutSeconds": "How long a held request waits for the first replica.",
    "autoscaling.interceptorReplicas": "KEDA HTTP interceptor replicas (`requests` mode, or `llmd.autoscaling`; every "
                                       "model request passes it): at least 2 in prod.",
    "llmd.enabled": "Deploy LlmdStack on the GPU pool (an A100, H100 or H200 size), published on the gateways' "
                    "`llmd` listener (port 8000) behind the API key and rate limit: the internal gateway's "
                    "(`gateway.mode` `internal` or `both`); with `llmd.exposeExternally` the external one's as well, "
                    "or alone under `external`. Its "
                    "two endpoint pickers request 4 CPUs and 8 GiB each: a CPU workload pool of 8 vCPUs or more "
                    "(`cluster.workloadPool.vmSize`; the plan's capacity check refuses a smaller one). The `llmd` "
                    "stack sets it.",
    "llmd.namespace": "The namespace (a DNS label) LlmdStack creates for vLLM, the scheduler, its gate and gateway "
                      "(and the UI under `webui.backend: llmd`); the `llmdNamespace` output. None the program creates "
                      "otherwise: not `namespace`, a platform namespace or a Kubernetes system one.",
    "llmd.model": "Hugging Face model id vLLM serves.",
    "llmd.hfTokenSecret": "Key Vault secret holding a Hugging Face token; required for gated models.",
    "llmd.modelMemoryGib": "Weights (GiB) of a model the built-in list (`components/llmplatform/llmd_specs.py`) "
                           "does not know, for the fit check.",
    "llmd.maxModelLen": "Longest context vLLM accepts (unset: the model's; required for a model the built-in list "
                        "does not know). The scheduler's prefix matching covers the same length.",
    "llmd.tensorParallelSize": "GPUs per vLLM replica (at most one node's).",
    "llmd.replicas": "vLLM replicas (the starting count under `llmd.autoscaling`).",
    "llmd.modelCacheGib": "Size limit of each replica's model download cache: at least the weights plus 1 GiB.",
    "llmd.prefillDecode": "Prefill/decode disaggregation: prefill and decode Deployments, llm-d's routing sidecar, "
                          "KV cache over InfiniBand (NIXL), the NVIDIA Network Operator. InfiniBand sizes, the GPU "
                          "Operator driver and fixed replica counts only (docs/components/llmd-stack.md).",
    "llmd.prefillReplicas": "Prefill replicas under `llmd.prefillDecode` (`llmd.replicas` counts decode).",
    "llmd.prefillTensorParallelSize": "GPUs per prefill replica under `llmd.prefillDecode` (at most one node's; "
                                      "`llmd.tensorParallelSize` is decode's).",
    "llmd.exposeExternally": "Also publish the llm-d API on the external gateway.",
    "llmd.failureMode": "What the gateway does while the scheduler is down.",
    "llmd.autoscaling": "KEDA on the scheduler's flow-control queue and running requests (llm-d's "
                        "workload-autoscaling guide); turns the scheduler's flow control on. Needs observability.",
    "llmd.minReplicas": "Lower bound under `llmd.autoscaling`; 0 scales to zero (the scheduler holds requests up "
                        "to `gateway.requestTimeoutSeconds`).",
    "llmd.maxReplicas": "Upper bound; times `tensorParallelSize` it must fit `gpu.maxCount` nodes.",
    "llmd.scaleUpStabilizationSeconds": "Scale-up window of the generated HPA (size it near a replica's cold "
                                        "start).",
    "llmd.scaleDownStabilizationSeconds": "Scale-down window, also the quiet time before scaling to zero.",
    "security.azurePolicy": "Azure Policy add-on (Gatekeeper enforcing the assigned initiatives). No charge.",
    "security.defender": "Microsoft Defender for Containers, reporting to Log Analytics; billed per node vCore. "
                         "Needs Azure Monitor.",
    "security.encryptionAtHost": "Encrypt node OS and temp disks at the host on every pool. No charge; the "
                                 "subscription feature `Microsoft.Compute/EncryptionAtHost` must be registered. "
                                 "Set it before the pools exist: AKS cannot change it on a pool.",
    "security.ephemeralOsDisk": "OS disks on the VM's local disk for every pool whose size has one large enough "
                                "(`components/llmplatform/data/vm_local_disks.json`); the plan names the others. "
                                "Set it before a pool exists: AKS cannot change a pool's OS disk type.",
    "security.diagnostics": "Key Vault, PostgreSQL and the model share send their logs and metrics to Log Analytics "
                            "(billed per GB). Needs Azure Monitor.",
    "cost.logAnalyticsGbPerDay": "Log Analytics ingestion the estimate assumes, GB/day.",
    "cost.prices": "Overrides of the price file's entries, e.g. `cost.prices.vm_hourly.Standard_D4s_v5` or "
                   "`cost.prices.load_balancer_monthly`; a name the location's price file lacks is refused.",
    "edge.globalStack": "Makes this a regional stack behind that global stack: the external gateway admits only "
                        "Front Door (`AzureFrontDoor.Backend`), the stack exports `location`, `clusterId` and "
                        "`gatewayHostname`, and config checks it against the project's other regional stack files. "
                        "Needs the external gateway; in prod `gateway.tls` too (Front Door reaches the region over "
                        "HTTPS).",
    "edge.frontDoorId": "The global stack's `frontDoorId` output (a GUID), set after the global stack is up "
                        "(docs/operations.md). Unset, the external gateway serves nothing; set, only requests whose "
                        "`X-Azure-FDID` header carries it (and Front Door's probe paths), and the API gate accepts "
                        "the global stack's key set instead of a key of its own. Set or not, the internal gateway "
                        "(`gateway.mode` both) refuses every request carrying `X-Azure-FDID`: Front Door never "
                        "reaches it.",
    "edge.fleet": "Fleet Manager upgrades this region: `cluster.upgradeChannel` must then be `none`; `false` leaves "
                  "it out of the global stack's fleet (no member, no stage), to follow its own channel.",
    "global.regions": "The regional stacks, in Fleet Manager's upgrade order (the first is upgraded first). The UI's "
                      "standby order too, after `global.uiHomeRegion`, which defaults to the first: without that key, "
                      "reordering moves every UI user to another region's Open-WebUI (its own accounts and chats).",
    "global.uiHomeRegion": "The regional stack (one of `global.regions`) every browser reaches for the UI while its "
                           "probes pass; the others stand by in `global.regions` order. Each region's Open-WebUI has "
                           "its own accounts, chats and session key, so a change moves every UI user to that "
                           "region's (signed out; the pull request shows the `ui` origins' `priority` updated in "
                           "place). Apart from the upgrade order: upgrade a canary first, keep the UI's users in the "
                           "region that matters most. Unset: the first of `global.regions`.",
    "global.llmdRegions": "Regional stacks (of `global.regions`) whose llm-d API the edge serves at /llmd; each "
                          "publishes llm-d externally (`llmd.enabled`, `llmd.exposeExternally`), checked in its "
                          "stack file.",
    "global.organization": "Organization of the StackReferences to the regional stacks (unset: the global stack's "
                           "own, `organization` on a self-managed backend): 3-40 letters, digits, `-` and `_`, "
                           "starting and ending with a letter or digit.",
    "global.apiKeys": "Names of the clients' API keys, newest last: one key set valid in every region, written into "
                      "each region's Key Vault (rotation: docs/operations.md).",
    "global.frontDoor.sku": "Front Door tier (the managed WAF rule sets need Premium); a change replaces the profile "
                            "and everything under it (deleted first): a new Front Door ID for every region's "
                            "`edge.frontDoorId`.",
    "global.frontDoor.wafMode": "`Detection` only logs.",
    "global.frontDoor.wafExclusions": "Request fields Microsoft_DefaultRuleSet does not inspect, each `{matchVariable, "
                                      "operator, selector}` (`RequestBodyJsonArgNames`, `Equals`, `messages.content`: "
                                      "a JSON field's nested names joined by `.`, no array indices), for every rule, "
                                      "or only `ruleGroup` (`SQLI`) or its `ruleId` (`942100`), as the WAF log's "
                                      "`ruleName_s` names them. At most 100; Premium only. What a prompt trips and "
                                      "how to read it: docs/components/global-endpoint-and-fleet.md.",
    "global.frontDoor.wafRuleOverrides": "Microsoft_DefaultRuleSet rules set otherwise, each `{ruleGroup, ruleId}` "
                                         "with `action` (`AnomalyScoring` or `Log`) and/or `enabled` (`false` turns "
                                         "it off). Premium only; in prod a rule turned off or to `Log` is named at "
                                         "every plan.",
    "global.frontDoor.rateLimitPerMinute": "Per-client WAF rate limit at the edge (requests a client address may "
                                           "send in a fixed one-minute window, then 429). Front Door's servers "
                                           "count apart: below about 200 some requests over the limit get through "
                                           "(Microsoft's rate-limit page).",
    "global.frontDoor.originTimeoutSeconds": "How long Front Door waits for a region's first byte.",
    "global.frontDoor.logCategories": "Front Door's logs sent to the workspace: `FrontDoorWebApplicationFirewallLog` "
                                      "(requests a WAF rule matched), `FrontDoorHealthProbeLog` (failed probes only), "
                                      "`FrontDoorAccessLog` (every request; most of the volume and of its cost). "
                                      "What is logged where: docs/components/global-endpoint-and-fleet.md.",
    "global.logAnalyticsWorkspaceId": "A central Log Analytics workspace for the edge's logs, by its ARM resource ID "
                                      "(`/subscriptions/.../providers/Microsoft.OperationalInsights/workspaces/"
                                      "<name>`); its ingestion is billed there. Unset: the stack makes "
                                      "`log-<prefix>-global` in `location`.",
    "global.logRetentionDays": "Retention of the workspace the global stack makes (not with "
                               "`global.logAnalyticsWorkspaceId`).",
    "global.fleet.channel": "Fleet Manager's auto-upgrade channel.",
    "global.fleet.nodeImageSelection": "Node images: the latest per region, or one consistent image (the only one "
                                       "the NodeImage channel takes).",
    "global.fleet.waitBetweenRegionsSeconds": "Soak time between two regions' upgrades.",
}
