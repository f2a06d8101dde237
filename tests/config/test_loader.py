"""Config validation (config/loader.py): pure parsing of the stack files, bad configs refused whole with zero resources,
and the catalogue of bad config as users type it through the real CLI path (`--set` and `--stack-file`): every case
refused with one message naming the key (or the file and line), exit 1, no traceback, nothing written or registered;
then a property test: random values only ever give a config or a ConfigError."""
from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from config.loader import parse_config
from config.reader import ConfigError
from offline import runner as offline, plan as plan_cli

from tests.conftest import PROJECT_DIR, VARIANTS, variant
from tests.strategies import unicode_text


def stack_raw(stack: str, overrides: dict | None = None) -> dict:
    prefix = "aks-llm-platform:"
    return {k[len(prefix):]: v for k, v in offline.stack_config(stack, overrides).items()}


# 66 characters: over Azure Monitor's limit for an action group's e-mail address (rules.ALERT_EMAIL_MAX_LENGTH)
LONG_ALERT_EMAIL = "platform-oncall-notifications@inference-europe.contosogroup.com.au"

# (stack, overrides, a fragment the error must contain). Each names the key, the bad value and what is allowed.
BAD_CONFIGS = [
    ("dev", {"observability": {"clientNamespaces": ["Team_B"]}}, "observability.clientNamespaces[0] 'Team_B' is "
                                                                "invalid; allowed: a DNS label"),
    ("dev", {"gateway": {"clientNamespaces": ["Apps_1"]}}, "gateway.clientNamespaces[0] 'Apps_1' is invalid; allowed: "
                                                          "a DNS label"),
    ("llmd", {"webui": {"clientNamespaces": ["x_y"]}}, "webui.clientNamespaces[0] 'x_y' is invalid; allowed: a DNS "
                                                      "label"),
    # the UI off: the program still hands InferenceStack these keys, whose rules refused them in Python names
    ("dev", {"webui": {"enabled": False, "clientNamespaces": ["x_y"]}}, "webui.clientNamespaces[0] 'x_y' is invalid"),
    ("dev", {"webui": {"enabled": False, "replicas": 0}}, "webui.replicas 0 is invalid; allowed: a whole number"),
    ("dev", {"gpu": {"minCount": 1, "maxCount": 0}}, "gpu.maxCount 0 is invalid; allowed: a whole number from 1 to 1000"),
    ("dev", {"gpu": {"vmSize": "Standard_NC4"}}, "gpu.vmSize 'Standard_NC4' is not a known GPU SKU; known: Standard_NC4as_T4_v3"),
    ("dev", {"gpu": {"driver": "nouveau"}}, "gpu.driver 'nouveau' is invalid; allowed: aks, operator"),
    # a key left blank: the engine hands the program the text 'null', which a prefix or namespace would take
    ("dev", {"prefix": "null", "namespace": "null"}, "namespace has no value (a key left blank in the stack file"),
    ("dev", {"gpu": {"priority": "low"}}, "gpu.priority 'low' is invalid; allowed: spot, regular"),
    ("dev", {"gpu": {"priority": "regular", "fallback": {"enabled": True}}}, "gpu.fallback.enabled true is invalid; allowed: only with gpu.priority spot (an on-demand pool is the fallback"),
    ("dev", {"gpu": {"migProfile": "MIG1g"}}, "gpu.migProfile 'MIG1g' is invalid; allowed: only on a MIG-capable catalog GPU (A100/H100/H200);"),
    ("dev", {"gpu": {"maxCont": 2}}, "gpu.maxCont is not a known key; did you mean 'maxCount'?"),
    # Azure's word for it (a stranger's first stack copied a file and set `region`): the config's `location`
    ("dev", {"region": "swedencentral"}, "region is not a known key; did you mean 'location'?"),
    ("dev", {"gpu": {"zzz": 2}}, "gpu.zzz is not a known key; known: driver, enabled, fallback, maxCount,"),
    ("dev", {"gpu": {"spotMaxPrice": 0}}, "gpu.spotMaxPrice 0.0 is invalid; allowed: -1 (pay up to the on-demand price) or a USD price above 0"),
    ("dev", {"gpu": {"upgradeMaxSurge": 1}}, "gpu.upgradeMaxSurge '1' is invalid; allowed: none on a spot pool without gpu.fallback.enabled (AKS upgrades a spot pool without surge nodes"),
    ("prod", {"gpu": {"upgradeMaxSurge": "150%"}}, "gpu.upgradeMaxSurge '150%' is invalid; allowed: a number of nodes from 1 to 1000 ('1') or a percentage of the pool's nodes from 1% to 100% ('33%')"),
    ("dev", {"cluster": {"tier": "Gold"}}, "cluster.tier 'Gold' is invalid; allowed: Free, Standard, Premium"),
    ("dev", {"cluster": {"systemPool": {"minCount": 0}}}, "cluster.systemPool.minCount 0 is invalid; allowed: a whole number from 1 to 1000"),
    ("dev", {"cluster": {"workloadPool": {"name": "CPU-Pool"}}}, "cluster.workloadPool.name 'CPU-Pool' is invalid; allowed: 1-12 lowercase letters and digits, starting with a"),
    ("dev", {"cluster": {"zones": ["1", "4"]}}, "cluster.zones[1] '4' is invalid; allowed: one of 1, 2, 3"),
    # `--set cluster.zones=[1,2]` (or `pulumi config set --path`) stores the string '[1,2]', not a list
    ("dev", {"cluster": {"zones": "[1,2]"}}, "got '[1,2]' (a string: give each entry its own path, e.g. --set 'cluster.zones[0]=...'"),
    # zones in a region without availability zones (llmplatform/data/azure_zones.json): the components' zone rule
    ("dev", {"location": "westus", "cluster": {"zones": ["1", "2", "3"]}}, "cluster.zones ['1', '2', '3'] is invalid; allowed: none in location 'westus', a region without availability zones (Microsoft's Azure regions list): leave cluster.zones out"),
    ("dev", {"location": "ukwest", "gpu": {"zones": ["1"]}}, "gpu.zones ['1'] is invalid; allowed: none in the cluster's location 'ukwest', a region without availability zones (Microsoft's Azure regions list): leave gpu.zones out"),
    ("dev", {"cluster": {"apiAccess": {"mode": "authorizedIps"}}}, "cluster.apiAccess.authorizedIpRanges [] is invalid; allowed: one or more CIDRs with cluster.apiAccess.mode"),
    ("dev", {"cluster": {"maintenanceWindow": {"startTime": "25:00"}}}, "cluster.maintenanceWindow.startTime '25:00' is invalid; allowed: HH:MM (24h)"),
    ("dev", {"cluster": {"networkPolicy": "weave"}}, "cluster.networkPolicy 'weave' is invalid; allowed: cilium, calico, azure"),
    ("dev", {"cluster": {"adminGroupObjectIds": ["admins"]}}, "cluster.adminGroupObjectIds[0] 'admins' is invalid; allowed: an Entra object id (GUID)"),
    ("dev", {"network": {"nodeSubnetCidr": "10.50.0.0/20"}}, "network.nodeSubnetCidr '10.50.0.0/20' is invalid; allowed: a range inside network.vnetCidr (10.40.0.0/16)"),
    ("dev", {"network": {"podCidr": "10.40.128.0/17"}}, "network.podCidr '10.40.128.0/17' is invalid; allowed: a range outside network.vnetCidr (10.40.0.0/16): AKS"),
    ("dev", {"network": {"vnetCidr": "10.40.0.0/33"}}, "network.vnetCidr '10.40.0.0/33' is invalid; allowed: an IPv4 range in CIDR notation with no host bits set,"),
    # a whole number (YAML's `vnetCidr: 10`, the CLI's typed integer) is refused, not replaced by the default unseen
    ("dev", {"network": {"vnetCidr": 10}}, "network.vnetCidr '10' is invalid; allowed: an IPv4 range in CIDR notation"),
    ("dev", {"network": {"dnsServiceIp": 10}}, "network.dnsServiceIp '10' is invalid; allowed: an IPv4 address"),
    ("dev", {"network": {"dnsServiceIp": "10.0.0.10"}}, "network.dnsServiceIp '10.0.0.10' is invalid; allowed: an address inside network.serviceCidr (172.16.0.0/16),"),
    ("dev", {"modelStore": {"sizeGib": 50}}, "modelStore.sizeGib 50 is invalid; allowed: a whole number from 100 to 102400"),
    # Open-WebUI's most connections (3 running + 6 Terminating pods of two replacements x 7, its Jobs, the admin's
    # room) past the 35 a B1ms admits
    ("dev", {"webui": {"maxReplicas": 3}}, "webui.maxReplicas 3 is invalid; allowed: at most 1 with postgres.skuName "
     "Standard_B1ms, or a larger postgres.skuName (Standard_B2s: 414 user connections): Open-WebUI may hold (3 "
     "replicas + 6 Terminating ones still holding theirs while they finish their answers: two replacements of the "
     "pods within one drain, a rollout, the autoscaler's scale-in and out or a node upgrade's evictions) x 7 per pod"),
    ("dev", {"webui": {"extraEnv": {"UVICORN_WORKERS": 2}}}, "webui.maxReplicas 1 is invalid; allowed: no replica "
     "count fits postgres.skuName Standard_B1ms, or a larger postgres.skuName (Standard_B2s: 414 user connections), "
     "or fewer UVICORN_WORKERS in webui.extraEnv (2)"),
    ("dev", {"modelStore": {"models": ["tinyllama", "llama9:70b"]}}, "modelStore.models[1] 'llama9:70b' is not in the model catalogue (config/data/ollama_models.json: tinyllama,"),
    ("dev", {"modelStore": {"models": ["tinyllama", "llama9:70b"]}}, "declare its download size: {name: llama9:70b, sizeGib: <GiB>}"),
    # an untagged library name whose `latest` no source gave: refused with the tags the catalogue knows
    ("dev", {"modelStore": {"models": ["qwen2.5"]}}, "modelStore.models[0] 'qwen2.5' names no tag, and the catalogue does not know what qwen2.5:latest is (the library moves it); name a known tag (qwen2.5:7b, qwen2.5:32b)"),
    ("dev", {"modelStore": {"models": ["hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"]}}, "modelStore.models[0] 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M' is not in the model catalogue"),
    ("dev", {"modelStore": {"models": [{"name": "hf.co/bartowski/Llama 3.2", "sizeGib": 1}]}}, "modelStore.models[0] 'hf.co/bartowski/Llama 3.2' is invalid; allowed: an Ollama model name [host/][namespace/]model[:tag]"),
    ("dev", {"modelStore": {"models": ["gpt-oss:20b-cloud"]}}, "modelStore.models[0] 'gpt-oss:20b-cloud' is invalid; allowed: a name without the source suffix '-cloud'"),
    ("dev", {"modelStore": {"models": ["tinyllama", {"name": "hf.co/a/b:Q4_K_M", "sizeGib": 0}]}}, "modelStore.models[1].sizeGib (0) must be the model's download size in GiB, above 0 and at most 4096"),
    ("dev", {"modelStore": {"models": [{"sizeGib": 2}]}}, "modelStore.models[0].name is missing"),
    ("dev", {"inference": {"warmModel": "llama3.1:8b"}}, "inference.warmModel 'llama3.1:8b' is not a model the store preloads (modelStore.models ['tinyllama']): replicas would never become Ready"),
    ("dev", {"modelStore": {"preloadDryRun": True}, "inference": {"warmModel": "tinyllama"}}, "(modelStore.models ['tinyllama'], and modelStore.preloadDryRun pulls none)"),
    ("prod", {"inference": {"warmModel": "nomic-embed-text"}}, "inference.warmModel 'nomic-embed-text' is an embedding model, which Ollama's warm-up cannot load"),
    ("dev", {"inference": {"warmModel": "llama 3"}}, "inference.warmModel 'llama 3' is invalid; allowed: an Ollama model name [host/][namespace/]model[:tag]"),
    ("dev", {"modelStore": {"models": [{"name": "hf.co/a/b:Q4_K_M", "size": 2}]}}, "modelStore.models[0].size is not a known key; did you mean 'sizeGib'?"),
    ("dev", {"modelStore": {"models": [["tinyllama"]]}}, "modelStore.models[0] must be a model name or an object {name, sizeGib}"),
    # a declared size counts wherever sizes do: the share's room, the GPU's and the CPU memory limit's
    ("dev", {"modelStore": {"models": [{"name": "hf.co/a/b:F16", "sizeGib": 95}]}}, "modelStore.sizeGib 100 is invalid; allowed: at least 106 GiB: 10 % of the share free above the ~95 GiB of the models to preload (modelStore.models)"),
    ("dev", {"inference": {"accelerator": "gpu"}, "modelStore": {"models": ["tinyllama", {"name": "hf.co/a/b:F16", "sizeGib": 20}]}}, "modelStore.models ['hf.co/a/b:F16'] do not fit in the 14.55 GiB of GPU memory Ollama may use (1 x T4 of Standard_NC4as_T4_v3: 15360 MiB each"),
    # CPU: the largest model plus Ollama's overhead within Ollama's memory limit
    ("dev", {"modelStore": {"models": ["tinyllama", "llama3.1:70b"]}}, "modelStore.models 'llama3.1:70b' (40.05 GiB) plus Ollama's overhead on CPU (~3.5 GiB: runtime and the KV cache of inference.numParallel 2 x 4096 tokens) needs ~43.55 GiB, over inference.resources.memoryLimit '12Gi' (12 GiB) with inference.accelerator 'cpu'"),
    ("dev", {"modelStore": {"models": ["llama3.1:70b"]}}, "raise inference.resources.memoryLimit to at least 44Gi (and a cluster.workloadPool.vmSize with more memory: Standard_D4ads_v5 has 16 GiB per node)"),
    ("dev", {"modelStore": {"models": [{"name": "hf.co/a/b:Q8_0", "sizeGib": 11}]}}, "modelStore.models 'hf.co/a/b:Q8_0' (11 GiB) plus Ollama's overhead on CPU"),
    # inference.contextLength sets the context on CPU too: llama3.1:8b's 131072-token training holds 32768 x 2, an
    # 8 GiB cache beside its 4.6 GiB (the floor counted Ollama's 4096-token CPU default whatever the key said)
    ("dev", {"modelStore": {"models": ["llama3.1:8b"]}, "inference": {"contextLength": 32768}}, "modelStore.models 'llama3.1:8b' (4.57 GiB) plus Ollama's overhead on CPU (~9 GiB: runtime and the KV cache of inference.numParallel 2 x inference.contextLength 32768 tokens) needs ~13.57 GiB, over inference.resources.memoryLimit '12Gi' (12 GiB)"),
    ("dev", {"modelStore": {"protocol": "iscsi"}}, "modelStore.protocol 'iscsi' is invalid; allowed: nfs, smb"),
    ("dev", {"modelStore": {"models": ["gpt-oss:20b"] * 2}}, "modelStore.models ['gpt-oss:20b'] is invalid; allowed: each model once"),
    ("dev", {"prefix": "LLM_Platform"}, "prefix 'LLM_Platform' must be 2-10 lowercase letters/digits"),
    # the components' region rule (llmplatform.regions), the stack's location its input
    ("dev", {"location": "west europe"}, "location 'west europe' is invalid; allowed: an Azure region's name as `az account list-locations` gives it (lowercase, no spaces; did you mean westeurope?)"),
    ("dev", {"environment": "qa"}, "environment 'qa' is invalid; allowed: dev, staging, prod"),
    # a stack the policy pack judges as prod by its name: refused after the whole plan by every prod policy at once
    ("prod", {"environment": "staging"}, "environment 'staging' is invalid for stack 'prod'; allowed: prod, since the "
     "policy pack (`pulumi preview --policy-pack policy`, and the offline plan) holds stacks named prod, global and "
     "prod-<region> to prod's rules"),
    ("prod-westeurope", {"environment": "dev"}, "environment 'dev' is invalid for stack 'prod-westeurope'"),
    ("dev", {"gpu": "big"}, "gpu must be an object (key: value), got 'big'"),
    ("prod", {"protectStatefulResources": False}, "protectStatefulResources must be true when environment is 'prod'"),
    ("prod", {"cluster": {"disableLocalAccounts": False}}, "cluster.disableLocalAccounts must be true when environment is 'prod'"),
    ("prod", {"modelStore": {"redundancy": "LRS"}}, "modelStore.redundancy must be 'ZRS' when the prod cluster spans zones"),
    # the policy pack refused a prod cluster without zones only after the whole plan, naming no key
    ("prod", {"cluster": {"zones": []}, "modelStore": {"redundancy": "LRS"}}, "cluster.zones [] is invalid; allowed: "
     "availability zones (e.g. ['1', '2', '3']) when environment is 'prod': the system pool must span zones (the "
     "policy pack's prod-aks-hardened)"),
    # InferenceStack
    ("prod", {"inference": {"replicas": 0}}, "inference.replicas (0) must be >= 1 when environment is 'prod'"),
    ("dev", {"inference": {"resources": {"memoryRequest": "8Gi", "memoryLimit": "4Gi"}}}, "inference.resources.memoryLimit '4Gi' is invalid; allowed: at least inference.resources.memoryRequest (8Gi)"),
    ("dev", {"inference": {"resources": {"cpuRequest": "two"}}}, "inference.resources.cpuRequest 'two' is invalid; allowed: a Kubernetes quantity, not negative, like '500m', '2' or '4Gi'"),
    ("dev", {"inference": {"accelerator": "tpu"}}, "inference.accelerator 'tpu' is invalid; allowed: cpu, gpu"),
    # OllamaServer's context_length rule, named by its stack key (0 is no "Ollama's default": the key left out is)
    ("prod", {"inference": {"contextLength": 0}}, "inference.contextLength 0 is invalid; allowed: a whole number from 512 to 1048576"),
    ("prod", {"inference": {"contextLength": "32k"}}, "inference.contextLength"),
    ("dev", {"inference": {"accelerator": "gpu"}, "gpu": {"enabled": False}}, "inference.accelerator 'gpu' needs gpu.enabled true"),
    ("dev", {"inference": {"accelerator": "gpu"}, "modelStore": {"models": ["llama3.1:70b"], "sizeGib": 100}}, "modelStore.models ['llama3.1:70b'] do not fit in the 14.55 GiB of GPU memory Ollama may use (1 x T4 of Standard_NC4as_T4_v3: 15360 MiB each"),
    ("dev", {"inference": {"keepAlive": "forever"}}, "inference.keepAlive 'forever' is invalid; allowed: a Go duration like '30m', '1h30m' or '0', or whole seconds like '300'; a negative one keeps models loaded"),
    ("dev", {"gateway": {"rateLimitPerSecond": 0}}, "gateway.rateLimitPerSecond 0 is invalid; allowed: a whole number from 1 to 100000"),
    ("dev", {"gateway": {"mode": "public"}}, "gateway.mode 'public' is invalid; allowed: both, internal, external, none"),
    ("dev", {"gateway": {"mode": "both", "internalIp": "10.99.0.5"}}, "gateway.internalIp '10.99.0.5' is invalid; allowed: a usable address of the node subnet 10.40.0.0/20"),
    # set while the gateway has no internal side (dev: external): checked all the same, not kept unread for later
    ("dev", {"gateway": {"internalIp": "10.40.0.300"}}, "gateway.internalIp '10.40.0.300' is invalid; allowed: a private IPv4 address of the node subnet"),
    ("dev", {"gateway": {"requestTimeoutSeconds": 30}}, "gateway.requestTimeoutSeconds (30) must be >= 300"),
    ("dev", {"gateway": {"tls": {"mode": "letsencrypt"}}}, "gateway.tls.hostname '' must be a DNS name"),
    # Python's punycode codec decodes '-abc' (no basic code points), Go's (x/net idna, Boulder's) refuses it
    ("dev", {"gateway": {"tls": {"mode": "letsencrypt", "hostname": "xn---abc.example.com",
                                 "email": "ops@corp.example.com"}}},
     "gateway.tls.hostname 'xn---abc.example.com' is invalid; allowed: a lowercase public DNS name Let's Encrypt "
     "issues for, like llm.example.com (2-10 labels of letters, digits and '-', at most 253 characters, under a "
     "public top-level domain); a label with '--' third and fourth only as punycode (xn--)"),
    ("dev", {"gateway": {"mode": "internal", "tls": {"mode": "letsencrypt", "hostname": "llm.example.com", "email": "a@example.com"}}}, "gateway.tls.mode 'letsencrypt' needs the external gateway"),
    ("dev", {"webui": {"replicas": 2, "maxReplicas": 1}}, "webui.maxReplicas 1 is invalid; allowed: at least webui.replicas (2)"),
    ("dev", {"postgres": {"version": "12"}}, "postgres.version '12' is invalid; allowed: 16, 17, 18"),
    ("dev", {"postgres": {"highAvailability": True}}, "postgres.highAvailability true is invalid; allowed: only with postgres.tier GeneralPurpose or MemoryOptimized"),
    ("dev", {"postgres": {"tier": "GeneralPurpose"}}, "postgres.skuName 'Standard_B1ms' is invalid; allowed: a GeneralPurpose compute size"),
    ("dev", {"postgres": {"skuName": "Standard_B3ms"}}, "postgres.skuName 'Standard_B3ms' is not in the stack's catalog of tier 'Burstable' sizes"),
    ("dev", {"postgres": {"backupRetentionDays": 40}}, "postgres.backupRetentionDays 40 is invalid; allowed: a whole number from 7 to 35"),
    ("prod", {"keyVault": {"publicNetworkAccess": True}}, "keyVault.publicNetworkAccess must be false when environment is 'prod'"),
    ("prod", {"keyVault": {"purgeProtection": False}}, "keyVault.purgeProtection must be true when environment is 'prod'"),
    # Observability and autoscaling
    ("dev", {"observability": {"alertEmails": ["oncall@"]}}, "observability.alertEmails[0] 'oncall@' is invalid; allowed: an e-mail address"),
    # Azure Monitor's limit of 64 characters an address; a local part that is no dot-atom reaches no mailbox
    ("prod", {"observability": {"alertEmails": [LONG_ALERT_EMAIL]}},
     f"observability.alertEmails[0] '{LONG_ALERT_EMAIL[:60]}...' is invalid; allowed: an e-mail address of at most 64 "
     "characters (Azure Monitor's limit for an action group's e-mail receiver)"),
    ("prod", {"observability": {"alertEmails": ["on..call@contoso.com"]}},
     "observability.alertEmails[0] 'on..call@contoso.com' is invalid; allowed: an e-mail address"),
    ("dev", {"observability": {"logRetentionDays": 7}}, "observability.logRetentionDays 7 is invalid; allowed: a whole number from 30 to 730"),
    ("dev", {"observability": {"logRetentionDays": 1000}}, "observability.logRetentionDays 1000 is invalid; allowed: a whole number from 30 to 730"),
    ("dev", {"observability": {"prometheusRetention": "two weeks"}}, "observability.prometheusRetention 'two weeks' is invalid; allowed: a Prometheus duration like '15d', '4w' or '30d12h' (units y, w, d, h, m, s, ms in that order)"),
    ("dev", {"autoscaling": {"minReplicas": 3, "maxReplicas": 2}}, "autoscaling.maxReplicas 2 is invalid; allowed: at least autoscaling.minReplicas (3)"),
    ("dev", {"autoscaling": {"mode": "magic"}}, "autoscaling.mode 'magic' is invalid; allowed: requests, gpu-memory, cpu, none"),
    ("dev", {"autoscaling": {"mode": "gpu-memory"}}, "autoscaling.mode 'gpu-memory' needs inference.accelerator 'gpu'"),
    ("dev", {"autoscaling": {"minReplicas": 0, "scaleToZero": False}}, "autoscaling.minReplicas 0 needs autoscaling.scaleToZero true"),
    ("dev", {"autoscaling": {"mode": "cpu", "scaleToZero": True, "minReplicas": 0}}, "autoscaling.scaleToZero needs autoscaling.mode 'requests'"),
    ("prod", {"observability": {"alertEmails": []}}, "observability.alertEmails must list at least one address when environment is 'prod'"),
    # one email receiver per entry: an address twice (in any case) is mailed twice per alert; named as written
    ("prod", {"observability": {"alertEmails": ["OnCall@Contoso.com", "ops@contoso.com", "ONCALL@contoso.com"]}},
     "observability.alertEmails ['OnCall@Contoso.com', 'ONCALL@contoso.com'] is invalid; allowed: each address once "
     "(compared without case)"),
    ("prod", {"autoscaling": {"scaleToZero": True, "minReplicas": 0}}, "autoscaling.scaleToZero is for dev"),
    # the cost levers dev pulls, and what they cannot be combined with
    ("dev", {"cluster": {"systemPool": {"priority": "spot"}}}, "cluster.systemPool.priority 'spot' is invalid; allowed: regular"),
    ("dev", {"cluster": {"systemPool": {"vmSize": "Standard_B1ms"}}}, "cluster.systemPool.vmSize 'Standard_B1ms' has 1 vCPU and 2 GiB; AKS system pools need at least 2 vCPU and 4 GiB"),
    ("dev", {"cluster": {"workloadPool": {"priority": "cheap"}}}, "cluster.workloadPool.priority 'cheap' is invalid; allowed: spot, regular"),
    ("prod", {"observability": {"azureMonitor": False}}, "observability.azureMonitor false is for dev"),
    ("dev", {"security": {"defender": True}}, "security.defender needs observability.enabled and observability.azureMonitor true"),
    ("dev", {"observability": {"managedGrafana": True}}, "observability.managedGrafana needs observability.azureMonitor true"),
    ("dev", {"observability": {"alertEmails": ["oncall@contoso.com"]}}, "observability.alertEmails needs observability.enabled and observability.azureMonitor true"),
    ("dev", {"webui": {"uploadsTier": "premium"}}, "webui.uploadsSizeGib 10 is invalid; allowed: a whole number from 100 to 102400 with webui.uploadsTier premium"),
    ("dev", {"webui": {"uploadsTier": "archive"}}, "webui.uploadsTier 'archive' is invalid; allowed: premium, standard"),
    # llm-d's namespace: LlmdStack's DNS-label rule, and no namespace the program (or Kubernetes) creates otherwise
    ("llmd", {"llmd": {"model": "Qwen/Qwen3-8B-"}}, "llmd.model 'Qwen/Qwen3-8B-' is invalid; allowed: a Hugging Face model id like 'Qwen/Qwen3-8B' ('namespace/name'"),
    ("dev", {"gateway": {"tls": {"mode": "letsencrypt", "hostname": "llm.corp.internal", "email": "ops@corp.example.com"}}}, "gateway.tls.hostname 'llm.corp.internal' is invalid; allowed: a lowercase public DNS name Let's Encrypt issues for"),
    ("llmd", {"llmd": {"namespace": "LLM_D"}}, "llmd.namespace 'LLM_D' is invalid; allowed: a DNS label: 1-63 lowercase"),
    ("llmd", {"llmd": {"namespace": "llm"}}, "llmd.namespace 'llm' is also `namespace`, the Ollama stack's"),
    ("llmd", {"llmd": {"namespace": "nri-plugins"}}, "llmd.namespace 'nri-plugins' is a namespace the platform creates itself"),
    ("llmd", {"llmd": {"namespace": "kube-system"}}, "llmd.namespace 'kube-system' is a Kubernetes system namespace"),
    # LlmdStack's own size rule (a weight of 1e-300 GiB passed the config's `> 0` and was refused after registrations)
    ("llmd", {"llmd": {"modelMemoryGib": 1e-300}}, "llmd.modelMemoryGib 1e-300 is invalid; allowed: a size in GiB "
                                                    "above 0, at most 4096"),
    ("dev", {"namespace": "kube-system"}, "namespace 'kube-system' is a Kubernetes system namespace, which exists already"),
    # prod's public gateway serves HTTPS (bearer keys, sign-ins), unless the region is behind Front Door
    ("prod", {"gateway": {"tls": None}}, "gateway.tls.mode 'none' with an external gateway (gateway.mode 'both') when environment is 'prod': API keys and Open-WebUI sign-ins would cross the internet as plain HTTP; set gateway.tls.mode 'letsencrypt'"),
    ("prod", {"gateway": {"mode": "external", "tls": {"mode": "none", "hostname": None, "email": None}}}, "gateway.tls.mode 'none' with an external gateway (gateway.mode 'external')"),
]


def test_stack_files_parse_to_the_documented_environments():
    dev = parse_config(stack_raw("dev"), "p", "dev")
    prod = parse_config(stack_raw("prod"), "p", "prod")
    assert (dev.cluster.tier, dev.gpu.min_count, dev.gpu.max_count, dev.gpu.priority) == ("Free", 0, 1, "spot")
    assert prod.cluster.tier == "Standard" and prod.cluster.zones == ("1", "2", "3") and prod.protect
    assert prod.gpu.fallback.enabled and prod.cluster.disable_local_accounts
    assert prod.model_store.redundancy == "ZRS" and dev.model_store.redundancy == "LRS"


def test_zones_follow_the_region_of_location():
    """A zonal stack moves to another zonal region as it is; to a region without zones only without them (the
    message names cluster.zones, not the GPU pools, which take the cluster's); a region the zone list leaves out is
    left to AKS."""
    assert parse_config(stack_raw("prod", {"location": "northeurope"}), "p", "prod").cluster.zones == ("1", "2", "3")
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw("prod", {"location": "westus"}), "p", "prod")
    assert [p for p in caught.value.problems if "zones" in p] == [
        "cluster.zones ['1', '2', '3'] is invalid; allowed: none in location 'westus', a region without availability "
        "zones (Microsoft's Azure regions list): leave cluster.zones out"]
    assert parse_config(stack_raw("dev", {"location": "westus"}), "p", "dev").cluster.zones == ()
    cfg = parse_config(stack_raw("dev", {"location": "jioindiawest", "cluster": {"zones": ["1"]}}), "p", "dev")
    assert cfg.cluster.zones == ("1",)


def test_llmd_namespace_reaches_llmd_stack_and_clashes_only_when_deployed():
    from types import SimpleNamespace
    from config.inputs import llmd_args
    cfg = parse_config(stack_raw("llmd", {"llmd": {"namespace": "inference-llmd"}}), "p", "llmd")
    stub = SimpleNamespace(scheduling={}, route_target={})
    assert llmd_args(cfg, {}, stub, stub, {})["namespace"] == "inference-llmd"
    assert parse_config(stack_raw("dev"), "p", "dev").llmd.namespace == "llm-d"  # LlmdStack's default
    # no LlmdStack, no namespace of its own: the key is checked for its shape only
    assert parse_config(stack_raw("dev", {"llmd": {"namespace": "llm"}}), "p", "dev").llmd.namespace == "llm"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_platform_namespaces_are_every_namespace_the_program_creates(name):
    """The collision checks of `namespace` and `llmd.namespace` know every namespace the planned variants create (and
    webui_backend_checks the llm-d UI's own under prefill/decode)."""
    from config.inputs import llmd_webui_namespace
    from config.loader import platform_namespaces
    stack, overrides = VARIANTS[name]
    cfg = parse_config(stack_raw(stack, overrides), "p", stack)
    created = {r.inputs["metadata"]["name"] for r in variant(name).kubernetes_objects()
               if r.inputs["kind"] == "Namespace"}
    assert created - {cfg.namespace, cfg.llmd.namespace, llmd_webui_namespace(cfg)} <= \
        set(platform_namespaces(cfg.prefix, cfg.environment))


def test_stack_files_hold_only_project_keys():
    for stack in ("dev", "prod"):
        doc = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        assert all(k.startswith("aks-llm-platform:") for k in doc["config"])


def test_config_is_frozen():
    cfg = parse_config(stack_raw("dev"), "p", "dev")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.gpu.max_count = 5  # type: ignore[misc]


def test_defaults_apply_when_sections_are_missing():
    cfg = parse_config({}, "p", "dev")
    assert cfg.gpu.vm_size == "Standard_NC4as_T4_v3" and cfg.model_store.size_gib == 100
    assert cfg.cluster.system_pool.name == "system" and cfg.namespace == "llm"


def test_seed_models_and_any_ollama_model_with_its_size_are_taken():
    """The seeds' untagged `gpt-oss` and `deepseek-r1` (their `latest` is a catalogue tag), and a Hugging Face GGUF
    with its size, as a stack file writes them and as `pulumi config set --path` builds them."""
    from offline.stackfile import apply_sets
    hf = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
    room = {"inference": {"resources": {"memoryRequest": "8Gi", "memoryLimit": "16Gi"}}}
    cfg = parse_config(stack_raw("dev", {**room, "modelStore": {"models": [
        "gpt-oss", "deepseek-r1", {"name": hf, "sizeGib": 0.8}]}}), "p", "dev")
    # the catalogue's GB (ollama.com: gpt-oss:20b 14 GB, deepseek-r1:8b 5.2 GB) in GiB; a declared size as declared
    assert cfg.model_store.sizes_gib == pytest.approx({"gpt-oss": 14e9 / 2 ** 30, "deepseek-r1": 5.2e9 / 2 ** 30,
                                                       hf: 0.8})
    values = apply_sets(stack_raw("dev", room), [f"modelStore.models[1].name={hf}", "modelStore.models[1].sizeGib=0.8",
                                                 "modelStore.models[2]=registry.ollama.ai/library/gpt-oss:latest"])
    assert values["modelStore"]["models"][1] == {"name": hf, "sizeGib": "0.8"}  # the CLI types no float
    cfg = parse_config(values, "p", "dev")
    assert cfg.model_store.models == ("tinyllama", hf, "registry.ollama.ai/library/gpt-oss:latest")
    assert cfg.model_store.model_sizes_gib == pytest.approx((0.64e9 / 2 ** 30, 0.8, 14e9 / 2 ** 30))  # GB -> GiB
    # a declared size wins over the catalogue's
    declared = {"modelStore": {"models": [{"name": "tinyllama", "sizeGib": 0.7}]}}
    assert parse_config(stack_raw("dev", declared), "p", "dev").model_store.sizes_gib == {"tinyllama": 0.7}


def test_the_warm_model_is_the_first_text_model_the_store_pulls_unless_named_or_none():
    """inference.warmModel: by default the first preloaded model that is not embedding-only, none when nothing is
    pulled; a name Ollama reads as a preloaded model is taken as written."""
    from config.sections.inference import effective_warm_model

    def warm(stack: str, overrides: dict) -> str:
        cfg = parse_config(stack_raw(stack, overrides), "p", stack)
        return effective_warm_model(cfg.inference, cfg.model_store) or "none"
    assert warm("dev", {}) == "tinyllama" and warm("prod", {}) == "llama3.1:8b"
    assert warm("prod", {"modelStore": {"models": ["nomic-embed-text", "mistral:7b"]}}) == "mistral:7b"
    assert warm("prod", {"modelStore": {"models": ["nomic-embed-text"]}}) == "none"
    assert warm("dev", {"modelStore": {"preloadDryRun": True}}) == "none"
    assert warm("dev", {"modelStore": {"preload": False}}) == "none"
    assert warm("prod", {"inference": {"warmModel": "none"}}) == "none"
    assert warm("prod", {"inference": {"warmModel": "library/mistral:7b"}}) == "library/mistral:7b"


def test_a_model_a_hair_over_ollamas_cpu_memory_is_not_told_it_needs_what_it_has():
    """10.01 GiB of weights plus Ollama's 2 GiB on CPU read "(10 GiB) ... needs ~12.0 GiB, over ... '12Gi' (12 GiB)":
    each figure rounded to the nearest, the need down onto the limit. The need is rounded up, the room down."""
    over = {"modelStore": {"models": ["tinyllama", {"name": "hf.co/a/b:Q4_0", "sizeGib": 10.01}]}}
    with pytest.raises(ConfigError, match=r"'hf.co/a/b:Q4_0' \(10.01 GiB\) plus Ollama's overhead on CPU \(~2 GiB: .* "
                                          r"needs ~12.01 GiB, over inference.resources.memoryLimit '12Gi' \(12 GiB\)"):
        parse_config(stack_raw("dev", over), "p", "dev")


def test_the_cpu_memory_check_is_the_gpu_one_with_ollamas_cpu_overhead():
    """One rule (weights + overhead over the memory Ollama gets); on CPU the overhead grows with numParallel and the
    context, by the model's own KV cache: gpt-oss:20b's is 33.75 KiB a token (24 layers, 8 KV heads of 2880 / 64)."""
    from config.sections.inference import cpu_overhead_gib
    assert cpu_overhead_gib("llama3.1:8b", 1) == 1.5 and cpu_overhead_gib("llama3.1:8b", 4) == 3.0
    assert cpu_overhead_gib("hf.co/a/b:Q4_0", 4) == 3.0  # a model of unknown shape: an 8B-class model's cache
    ok = {"modelStore": {"models": ["gpt-oss"]}, "inference": {"resources": {"memoryLimit": "16Gi"}}}
    assert parse_config(stack_raw("dev", ok), "p", "dev").model_store.models == ("gpt-oss",)  # 13.04 + 1.27 <= 16
    wider = {**ok, "inference": {**ok["inference"], "numParallel": 6, "contextLength": 32768}}  # 13.04 + 1 + 6.33
    with pytest.raises(ConfigError, match=r"needs ~20.37 GiB, over inference.resources.memoryLimit '16Gi' \(16 GiB\)"):
        parse_config(stack_raw("dev", wider), "p", "dev")
    on_gpu = {**ok, "inference": {"accelerator": "gpu", "resources": {"memoryLimit": "12Gi"}}}
    assert parse_config(stack_raw("dev", on_gpu), "p", "dev")  # the GPU holds it: the CPU limit is not its room


def test_sku_names_are_normalised():
    assert parse_config({"gpu": {"vmSize": "standard_nc24ads_a100_v4"}}, "p", "d").gpu.vm_size == \
        "Standard_NC24ads_A100_v4"


@pytest.mark.parametrize("stack,overrides,message", BAD_CONFIGS, ids=[m[:40] for _, _, m in BAD_CONFIGS])
def test_bad_config_is_refused_with_a_message_naming_the_key(stack, overrides, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw(stack, overrides), "p", stack)
    assert message in str(caught.value)


@pytest.mark.parametrize("stack,overrides,message", BAD_CONFIGS, ids=[m[:40] for _, _, m in BAD_CONFIGS])
def test_bad_config_registers_nothing(stack, overrides, message):
    with pytest.raises(offline.ProgramError) as caught:
        offline.run(stack, overrides)
    assert caught.value.registered == 0
    assert message in str(caught.value) and "Traceback" not in str(caught.value)


def test_a_context_length_that_is_no_whole_number_is_one_problem_not_also_a_zero_never_given():
    for wrong, shown in (("32k", "'32k'"), (32768.5, "32768.5"), (True, "true")):
        with pytest.raises(ConfigError) as caught:
            parse_config(stack_raw("prod", {"inference": {"contextLength": wrong}}), "p", "prod")
        about = [p for p in caught.value.problems if "contextLength" in p]
        assert about == [f"inference.contextLength must be a whole number, got {shown}"], about


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        parse_config({"gpu": {"maxCount": 0, "minCount": 2, "driver": "x"}, "modelStore": {"sizeGib": 1}}, "p", "d")
    assert len(caught.value.problems) >= 3


DEV = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
P = "aks-llm-platform"
HUGE = "9" * 5000

# (case id, --set items, the fragment the message must contain: the key, or the file and what is wrong)
SET_CASES = [
    # the path is named as it was written, list indexes in brackets
    ("index-into-a-value", ["modelStore.models[0].x=1"], "modelStore.models[0] is a value ('tinyllama'), not an object"),
    # numbers that isdigit() accepts but int() does not, too long, not finite
    ("minus-minus", ["gpu.maxCount=--3"], "gpu.maxCount"),
    ("superscript", ["gpu.maxCount=³"], "gpu.maxCount"),
    ("arabic-indic", ["gpu.maxCount=٣"], "gpu.maxCount"),
    ("fullwidth", ["gpu.maxCount=３"], "gpu.maxCount"),
    ("too-long-int", ["gpu.maxCount=" + "9" * 40], "gpu.maxCount"),
    ("nan-price", ["gpu.spotMaxPrice=nan"], "gpu.spotMaxPrice"),
    ("inf-price", ["gpu.spotMaxPrice=inf"], "gpu.spotMaxPrice"),
    ("huge-float", ["gpu.spotMaxPrice=1e999"], "gpu.spotMaxPrice"),
    ("int-limit", ["modelStore.sizeGib=" + "9" * 20], "modelStore.sizeGib"),
    # a mirror registry is a host (no scheme), and its ACR id names the same registry
    ("registry-scheme", ["cluster.imageRegistry=https://myacr.azurecr.io"], "cluster.imageRegistry"),
    ("registry-id-alone", ["cluster.imageRegistryId=/subscriptions/00000000-0000-0000-0000-000000000000/"
                           "resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myacr"],
     "cluster.imageRegistryId"),
    ("registry-id-other", ["cluster.imageRegistry=myacr.azurecr.io",
                           "cluster.imageRegistryId=/subscriptions/00000000-0000-0000-0000-000000000000/"
                           "resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/otheracr"],
     "'myacr'"),
    # a group copied twice: one role assignment made twice, which the engine refused as a duplicate URN
    ("admin-group-twice", ["cluster.adminGroupObjectIds[0]=11111111-2222-3333-4444-555555555555",
                           "cluster.adminGroupObjectIds[1]=11111111-2222-3333-4444-555555555555"],
     "cluster.adminGroupObjectIds ['11111111-2222-3333-4444-555555555555'] is invalid; allowed: each group once"),
    ("alert-email-twice", ["observability.alertEmails[0]=oncall@contoso.com",
                           "observability.alertEmails[1]=ONCALL@contoso.com"],
     "observability.alertEmails ['oncall@contoso.com', 'ONCALL@contoso.com'] is invalid; allowed: each address once "
     "(compared without case): "
     "a second receiver of the same address mails it twice per alert"),
    # a budget notifies the on-call action group; its amount is a positive number
    ("budget-without-emails", ["observability.monthlyBudget=500"],
     "observability.monthlyBudget needs observability.alertEmails"),
    ("budget-negative", ["observability.monthlyBudget=-5"],
     "observability.monthlyBudget -5.0 is invalid; allowed: a number greater than 0"),
    ("budget-not-a-number", ["observability.monthlyBudget=lots"],
     "observability.monthlyBudget must be a finite number, got 'lots'"),
    ("viewer-group-twice", ["environment=prod", "observability.managedGrafana=true",
                            "observability.grafanaViewerGroupIds[0]=11111111-2222-3333-4444-555555555555",
                            "observability.grafanaViewerGroupIds[1]=11111111-2222-3333-4444-555555555555"],
     "observability.grafanaViewerGroupIds ['11111111-2222-3333-4444-555555555555'] is invalid; allowed: each group "
     "once"),
    # one IP family, Azure's subnet rules
    ("ipv6-pods", ["network.podCidr=fd00::/8"], "network.podCidr"),
    ("integer-pods", ["network.podCidr=192"], "network.podCidr '192' is invalid"),
    ("ipv6-vnet", ["network.vnetCidr=2001:db8::/32"], "network.vnetCidr"),
    ("ipv6-service", ["network.serviceCidr=fd12::/108"], "network.serviceCidr"),
    ("subnet-30", ["network.endpointsSubnetCidr=10.40.16.0/30"], "network.endpointsSubnetCidr"),
    ("subnet-32", ["network.postgresSubnetCidr=10.40.17.5/32"], "network.postgresSubnetCidr"),
    ("gw-ip-network", ["gateway.mode=both", "gateway.internalIp=10.40.0.0"], "gateway.internalIp"),
    ("gw-ip-reserved-1", ["gateway.mode=both", "gateway.internalIp=10.40.0.1"], "gateway.internalIp"),
    ("gw-ip-reserved-3", ["gateway.mode=both", "gateway.internalIp=10.40.0.3"], "gateway.internalIp"),
    ("gw-ip-broadcast", ["gateway.mode=both", "gateway.internalIp=10.40.15.255"], "gateway.internalIp"),
    ("gw-ip-v6", ["gateway.mode=both", "gateway.internalIp=fd00::5"], "gateway.internalIp"),
    ("dns-broadcast", ["network.dnsServiceIp=172.16.255.255"], "network.dnsServiceIp"),
    ("dns-network", ["network.dnsServiceIp=172.16.0.0"], "network.dnsServiceIp"),
    ("k8s-unicode-digits", ["cluster.kubernetesVersion=1.３３"], "cluster.kubernetesVersion"),
    # a minor AKS no longer supports on its release calendar's date (config/data/aks_kubernetes_versions.json):
    # named with the supported window, the Long-Term Support one (cluster.tier Premium) and why
    ("k8s-retired", ["cluster.kubernetesVersion=1.20"],
     "cluster.kubernetesVersion '1.20' is invalid; allowed: a minor AKS supports on its release calendar of "
     "2026-08-21 (config/data/aks_kubernetes_versions.json): 1.34, 1.35, 1.36 (and 1.37, GA Oct 2026), or with "
     "cluster.tier Premium (its Long-Term Support) 1.31, 1.32, 1.33, 1.34, 1.35, 1.36 (and 1.37, GA Oct 2026); 1.20 "
     "is older than every version on the calendar"),
    ("k8s-community-support-ended", ["cluster.kubernetesVersion=1.33.4"],
     "1.33's community support ended 2026-07-31; AKS's Long-Term Support (cluster.tier Premium) keeps it until "
     "2027-07-31"),
    ("k8s-lts-ended", ["cluster.tier=Premium", "cluster.kubernetesVersion=1.30"],
     "cluster.kubernetesVersion '1.30' is invalid; allowed: a minor AKS supports"),
    ("k8s-arabic-digits", ["cluster.kubernetesVersion=1.٣٣.1"], "cluster.kubernetesVersion"),
    # empty strings are not defaults
    ("empty-gpu-size", ["gpu.vmSize="], "gpu.vmSize"),
    ("empty-prefix", ["prefix="], "prefix"),
    ("empty-location", ["location="], "location"),
    ("empty-namespace", ["namespace="], "namespace"),
    ("null-prefix", ["prefix=null"], "prefix has no value"),
    ("empty-pg-sku", ["postgres.skuName="], "postgres.skuName"),
    ("empty-model", ["modelStore.models[0]="], "modelStore.models"),
    # --set as the Pulumi CLI reads it
    ("no-equals", ["gpu"], "'gpu' has no '='"),
    ("value-then-path", ["gpu=3", "gpu.maxCount=1"], "gpu is a value"),
    ("index-past-end", ["modelStore.models[5]=tinyllama"], "index 5 is past the end"),
    ("bad-path", ["gpu..maxCount=1"], "not a config path"),
    ("index-first", ["[0]=1"], "not a config path"),
    ("wildcard", ["modelStore.models[*]=x"], "not a config path"),
    ("negative-index", ["modelStore.models[-1]=x"], "not a config path"),
    ("open-quote", ['webui.extraEnv["WEBUI_URL=x'], "not a config path"),
    # a quoted name holding '=' (`pulumi config set --path` takes the key and the value apart): the value starts at
    # the first '=' outside a quoted name, so the name reaches the config's own rule (an env name has no '=')
    ("equals-in-quoted-name", ['webui.extraEnv["A=B"]=x'], "webui.extraEnv ['A=B'] is invalid"),
    # deeper than a stack file may nest (config.stack_yaml.MAX_DEPTH): a RecursionError traceback, not a refusal
    ("path-too-deep", ["gpu." + "a." * 900 + "b=1"], "levels"),
    ("yes-is-a-string", ["gpu.enabled=yes"], "gpu.enabled"),
    ("on-is-a-string", ["webui.enabled=on"], "webui.enabled"),
    ("section-as-value", ["cluster=big"], "cluster"),
    # Azure's lists and naming rules
    ("unknown-region", ["location=westeurop"], "location"),
    ("region-case", ["location=WestEurope"], "location"),
    ("rg-space", ["resourceGroupName=rg with space"], "resourceGroupName"),
    ("rg-too-long", ["resourceGroupName=" + "r" * 91], "resourceGroupName"),
    ("rg-trailing-dot", ["resourceGroupName=rg-llm."], "resourceGroupName"),
    # a group Azure takes that AKS does not: refused by AksCluster after registrations, in its input's words
    ("rg-node-labels", ["resourceGroupName=" + "r" * 64], "resourceGroupName '" + "r" * 60 + "...' is invalid; "
     "allowed: at most 63 characters (it has 64): with Azure CNI Overlay AKS writes the node subnet's VNet and "
     "resource group names into node labels"),
    ("rg-node-group", ["resourceGroupName=" + "r" * 54], "resourceGroupName '" + "r" * 54 + "' is invalid; allowed: "
     "at most 53 characters with this cluster ('aks-llmp-dev') and location ('westeurope'): AKS names the node "
     "resource group 'MC_" + "r" * 54 + "_aks-llmp-dev_westeurope' (81 characters) and refuses more than 80"),
    ("cpu-size-unknown", ["cluster.workloadPool.vmSize=Standard_Foo"], "cluster.workloadPool.vmSize"),
    ("cpu-size-gpu", ["cluster.workloadPool.vmSize=Standard_NC4as_T4_v3"], "cluster.workloadPool.vmSize"),
    ("cpu-size-typo", ["cluster.systemPool.vmSize=Standard-D2s-v5"], "cluster.systemPool.vmSize"),
    ("pg-sku-unknown", ["postgres.skuName=Standard_B3ms"], "postgres.skuName"),
    ("pg-sku-wrong-tier", ["postgres.tier=MemoryOptimized", "postgres.skuName=Standard_D4ds_v5"],
     "postgres.skuName"),
    ("email-leading-hyphen", ["observability.alertEmails[0]=ops@-bad.com"], "observability.alertEmails"),
    ("email-double-dot", ["observability.alertEmails[0]=ops@example..com"], "observability.alertEmails"),
    ("email-underscore", ["observability.alertEmails[0]=ops@exa_mple.com"], "observability.alertEmails"),
    ("email-no-tld", ["observability.alertEmails[0]=ops@localhost"], "observability.alertEmails"),
    ("email-over-64", [f"observability.alertEmails[0]={LONG_ALERT_EMAIL}"],
     f"observability.alertEmails[0] '{LONG_ALERT_EMAIL[:60]}...' is invalid; allowed: an e-mail address of at most 64"),
    ("email-leading-dot", ["observability.alertEmails[0]=.ops@contoso.com"],
     "observability.alertEmails[0] '.ops@contoso.com' is invalid; allowed: an e-mail address"),
    ("email-trailing-dot", ["observability.alertEmails[0]=ops.@contoso.com"],
     "observability.alertEmails[0] 'ops.@contoso.com' is invalid; allowed: an e-mail address"),
    ("tls-email-bad", ["gateway.tls.mode=letsencrypt", "gateway.tls.hostname=llm.example.com",
                       "gateway.tls.email=me@@example.com"], "gateway.tls.email"),
    # collisions: two resources of one name
    ("ns-monitoring", ["namespace=monitoring"], "namespace"),
    ("ns-keda", ["namespace=keda"], "namespace"),
    ("ns-istio", ["namespace=istio-system"], "namespace"),
    ("ns-gateway", ["namespace=llmp-dev-gateway"], "namespace"),
    ("pool-named-fallback", ["gpu.fallback.enabled=true", "cluster.workloadPool.name=gpuod"],
     "cluster.workloadPool.name"),
    ("store-rg-is-platform-rg", ["modelStore.resourceGroupName=rg-llmp-dev"], "modelStore.resourceGroupName"),
    ("store-rg-case", ["modelStore.resourceGroupName=RG-LLMP-DEV"], "modelStore.resourceGroupName"),
    ("ollama-on-mig", ["gpu.vmSize=Standard_NC24ads_A100_v4", "gpu.migProfile=MIG1g",
                       "inference.accelerator=gpu"], "gpu.migProfile"),
    # contradictions
    ("fallback-without-gpu", ["gpu.enabled=false", "gpu.fallback.enabled=true"], "gpu.fallback.enabled"),
    ("spot-price-on-regular", ["gpu.priority=regular", "gpu.spotMaxPrice=0.5"], "gpu.spotMaxPrice"),
    ("surge-on-spot", ["gpu.upgradeMaxSurge=1"], "gpu.upgradeMaxSurge"),
    ("tls-host-without-tls", ["gateway.tls.hostname=llm.example.com"], "gateway.tls.hostname"),
    ("zero-scale-min-1", ["autoscaling.scaleToZero=true", "autoscaling.minReplicas=1"], "autoscaling.scaleToZero"),
    # shapes and ranges the loader always refused, now through the CLI
    ("prefix-case", ["prefix=LLM"], "prefix"),
    ("prefix-long", ["prefix=" + "a" * 300], "prefix"),
    ("environment", ["environment=qa"], "environment"),
    ("namespace-shape", ["namespace=Bad_NS"], "namespace"),
    ("gpu-min-max", ["gpu.minCount=5", "gpu.maxCount=2"], "gpu.maxCount"),
    ("gpu-driver", ["gpu.driver=nouveau"], "gpu.driver"),
    ("gpu-priority", ["gpu.priority=cheap"], "gpu.priority"),
    ("gpu-mig", ["gpu.migProfile=MIG9g"], "gpu.migProfile"),
    ("gpu-mig-operator", ["gpu.vmSize=Standard_NC24ads_A100_v4", "gpu.migProfile=MIG3g", "gpu.driver=operator"],
     "gpu.migProfile"),
    ("gpu-pool-name", ["gpu.poolName=GPU"], "gpu.poolName"),
    ("cluster-tier", ["cluster.tier=Gold"], "cluster.tier"),
    ("cluster-zone", ["cluster.zones[0]=4"], "cluster.zones"),
    ("cluster-zone-no-az-region", ["location=westcentralus", "cluster.zones[0]=1"],
     "cluster.zones ['1'] is invalid; allowed: none in location 'westcentralus', a region without availability zones"),
    ("upgrade-channel", ["cluster.upgradeChannel=yolo"], "cluster.upgradeChannel"),
    ("system-min", ["cluster.systemPool.minCount=0"], "cluster.systemPool.minCount"),
    ("window-time", ["cluster.maintenanceWindow.startTime=25:00"], "cluster.maintenanceWindow.startTime"),
    ("window-offset", ["cluster.maintenanceWindow.utcOffset=+15:00"], "cluster.maintenanceWindow.utcOffset"),
    ("admin-guid", ["cluster.adminGroupObjectIds[0]=not-a-guid"], "cluster.adminGroupObjectIds"),
    ("authorized-none", ["cluster.apiAccess.mode=authorizedIps"], "cluster.apiAccess.authorizedIpRanges"),
    ("store-protocol", ["modelStore.protocol=ftp"], "modelStore.protocol"),
    ("store-size", ["modelStore.sizeGib=50"], "modelStore.sizeGib"),
    ("store-model", ["modelStore.models[0]=nonexistent"], "modelStore.models"),
    ("store-model-untagged", ["modelStore.models[0]=llama3.1"], "modelStore.models[0] 'llama3.1' names no tag"),
    ("store-model-size-word", ["modelStore.models[1].name=hf.co/a/b:Q4_K_M", "modelStore.models[1].sizeGib=big"],
     "modelStore.models[1].sizeGib"),
    ("store-model-grammar", ["modelStore.models[0]=a/b/c/d"], "modelStore.models[0] 'a/b/c/d' is invalid"),
    ("store-model-cpu-memory", ["modelStore.models[0]=gpt-oss"], "inference.resources.memoryLimit '12Gi'"),
    ("accelerator", ["inference.accelerator=tpu"], "inference.accelerator"),
    ("replicas", ["inference.replicas=-1"], "inference.replicas"),
    ("pg-version", ["postgres.version=12"], "postgres.version"),
    ("pg-database", ["postgres.database=Bad-Name"], "postgres.database"),
    ("kv-retention", ["keyVault.softDeleteRetentionDays=5"], "keyVault.softDeleteRetentionDays"),
    ("gateway-mode", ["gateway.mode=sideways"], "gateway.mode"),
    ("gateway-timeout", ["gateway.requestTimeoutSeconds=10"], "gateway.requestTimeoutSeconds"),
    ("autoscaling-mode", ["autoscaling.mode=magic"], "autoscaling.mode"),
    ("retention", ["observability.prometheusRetention=15 minutes"], "observability.prometheusRetention"),
    ("unknown-key", ["gpu.maxCont=3"], "gpu.maxCont"),
    # a price name the region's price file lacks: a warning after the plan ("no estimate") before, the key unnamed
    ("cost-price-typo", ["cost.prices.vm_hourli.Standard_D4ads_v5=1"], "cost.prices.vm_hourli names no price in "
                                                                       "westeurope.json"),
]

# (case id, stack file bytes, fragment): files the Pulumi CLI would refuse, or read differently than YAML 1.1 does
FILE_CASES = [
    # a version typed as a float would lose its trailing zero (1.30 reads back as 1.3): refused, not converted
    ("float-version", DEV + f"  {P}:postgres: {{version: 16.0}}\n", "postgres.version must be a string, got the number 16.0: YAML reads an unquoted value like 1.30 as a number "
     'and drops its trailing zeros; quote it (version: "16.0")'),
    ("unclosed-bracket", DEV + f"  {P}:namespace: [llm\n", "not valid YAML"),
    ("tab", DEV.replace("  aks-llm-platform:environment: dev", "\taks-llm-platform:environment: dev"),
     f"line {DEV.splitlines().index('  aks-llm-platform:environment: dev') + 1}"),
    ("stray-at", DEV + f"  {P}:prefix: @llmp\n", "not valid YAML"),
    ("file-is-a-list", "- config\n- nothing\n", "must be a mapping"),
    ("file-is-a-string", "just text\n", "must be a mapping"),
    ("config-is-a-list", "config:\n  - a\n", "`config:` must be a mapping"),
    ("section-is-a-list", DEV + f"  {P}:postgres: [1, 2]\n", "postgres must be an object"),
    ("two-documents", DEV + "---\nconfig: {}\n", "2 YAML documents"),
    ("not-utf8", DEV.encode() + b"  aks-llm-platform:prefix: \xff\xfe\n", "not UTF-8"),
    ("custom-tag", DEV + f"  {P}:prefix: !secret llmp\n", "YAML tag '!secret'"),
    ("timestamp-tag", DEV + f"  {P}:prefix: !!timestamp 2024-01-01\n", "2024-01-01 is a date"),
    ("unquoted-date", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: 2024-01-01\n",
     "2024-01-01 is a date, unquoted, to the Pulumi CLI"),
    ("sexagesimal-int", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: 10:30\n",
     "keyVault.softDeleteRetentionDays"),
    ("no-namespace", DEV + "  prefix: llmq\n", "'prefix' has no namespace"),
    ("no-name", DEV + f"  {P}: llmq\n", f"config key '{P}' names no setting after its namespace; write it as "
                                        f"'{P}:<key>'"),
    ("quoted-no-name", DEV + f"  '{P}:': llmq\n", f"config key '{P}:' names no setting"),
    (":prefix", DEV + "  ':prefix': llmq\n", f"config key ':prefix' has no namespace; write it as '{P}:prefix'"),
    ("misspelt-namespace", DEV + "  aks-llm-platfrom:prefix: llmq\n", "namespace 'aks-llm-platfrom'"),
    ("duplicate-key", DEV + f"  {P}:gpu:\n    maxCount: 3\n", "appears twice"),
    # the stack file users edit: more UI replicas than the dev server's connections hold
    ("webui-outgrows-postgres",
     DEV.replace("    uploadsSizeGib: 10\n", "    uploadsSizeGib: 10\n    maxReplicas: 5\n", 1),
     "webui.maxReplicas 5 is invalid; allowed: at most 1 with postgres.skuName Standard_B1ms, or a larger "
     "postgres.skuName (Standard_B2s: 414 user connections)"),
    ("duplicate-nested", DEV.replace("    minCount: 0\n", "    minCount: 0\n    minCount: 1\n", 1), "appears twice"),
    ("yes-boolean", DEV + f"  {P}:protectStatefulResources: yes\n", "protectStatefulResources"),
    ("on-boolean", DEV.replace("    enabled: true\n", "    enabled: on\n", 1), "gpu.enabled"),
    ("huge-int", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: {HUGE}\n", "cannot be read"),
    ("unknown-top-level", DEV + "extra: 1\n", "unknown top-level key 'extra'"),
    # a regional stack setting top-level keys only, given a global key meant for the global stack's file
    ("stray-global-only-top-level", f"config:\n  {P}:environment: dev\n  {P}:global:\n    apiKeys: [clients, "
     "clients-2027]\n", "stack 'dev' sets global.* but no global.regions: in a regional stack, set global.* in the global stack's "
     "file (Pulumi.global.yaml here) and remove it from this one"),
    ("secret-value", DEV + f"  {P}:prefix:\n    secure: AAABADQ=\n", "is a secret"),
    # YAML's null, as the offline reader gives it (the engine: the text 'null', above)
    ("blank-key", DEV + f"  {P}:prefix:\n", "prefix has no value"),
    ("tilde-section", DEV + f"  {P}:postgres: ~\n", "postgres has no value"),
    # `pulumi config set --secret --path webui.adminEmail ...` encrypts the value inside its section: the same words
    # as a secret at the top, naming its path, not "must be a string, got {'secure': ...}"
    ("nested-secret-value", DEV.replace("    uploadsTier: standard", "    adminEmail:\n      secure: v1:AAABADQ=\n"
                                        "    uploadsTier: standard", 1),
     "Pulumi.dev.yaml: webui.adminEmail is a secret; this program has no secret settings (secrets are generated and "
     "kept in Key Vault)"),
    ("secret-in-extra-env", DEV.replace("    uploadsTier: standard", "    extraEnv:\n      OPENAI_API_KEYS:\n"
                                        "        secure: v1:AAABADQ=\n    uploadsTier: standard", 1),
     "webui.extraEnv.OPENAI_API_KEYS is a secret; this program has no secret settings (secrets are generated and "
     "kept in Key Vault; an Open-WebUI setting whose value is secret goes into a Key Vault secret named in "
     "webui.secretEnv)"),
    ("nan-in-file", DEV.replace("    priority: spot\n", "    priority: spot\n    spotMaxPrice: .nan\n"),
     "gpu.spotMaxPrice"),
    ("inf-in-file", DEV.replace("    priority: spot\n", "    priority: spot\n    spotMaxPrice: .inf\n"),
     "gpu.spotMaxPrice"),
    ("control-char", DEV + f'  {P}:namespace: "ll\\u0007m"\n', "namespace"),
    ("list-as-key", DEV + f"  {P}:keyVault:\n    ? [maxCount, minCount]\n    : 3\n",
     "a key must be a plain value, not a list"),
    ("nested-too-deep", DEV + f"  {P}:keyVault:\n    zones: {'[' * 300}{']' * 300}\n", "nest more than 32 levels"),
    ("alias-bomb", DEV + f"  {P}:keyVault:\n    zones:\n      - &a [x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"      - &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")),
     "excessive aliasing"),
]


def _refused(capsys, tmp_path, argv):
    """Run the CLI; it must refuse with exit 1, one message, no traceback, and write nothing."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "dev", "--out", str(out), *argv])
    captured = capsys.readouterr()
    assert code == 1, captured.out[-500:] + captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "had been registered" not in captured.err  # the CLI says when a refusal came after registrations
    assert not out.exists()
    return captured.err


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     unicode_text(max_size=20), st.sampled_from(["", "yes", "on", "10:30", "2024-01-01", "-1", "³", "٣",
                                                            "westeurope", "Standard_D4s_v5", "10.0.0.0/8", "fd00::/8",
                                                            "1.33", "nan", "1e999"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(unicode_text(max_size=12), inner, max_size=4)),
                       max_leaves=12)
_KEYS = st.sampled_from(["environment", "prefix", "location", "namespace", "resourceGroupName", "gpu", "cluster",
                         "network", "modelStore", "inference", "webui", "postgres", "keyVault", "gateway",
                         "observability", "autoscaling", "protectStatefulResources", "bogus"])
_SECTION_KEYS = st.sampled_from(["vmSize", "minCount", "maxCount", "enabled", "priority", "spotMaxPrice", "fallback",
                                 "zones", "models", "sizeGib", "internalIp", "tls", "mode", "podCidr", "vnetCidr",
                                 "systemPool", "apiAccess", "replicas", "skuName", "tier", "alertEmails", "x"])
_CONFIGS = st.dictionaries(_KEYS, st.one_of(_VALUES, st.dictionaries(_SECTION_KEYS, _VALUES, max_size=5)),
                           max_size=6)


def test_the_cli_says_when_a_refusal_came_after_registrations(monkeypatch, capsys, tmp_path):
    """The check above relies on this: a ProgramError carrying registrations is reported with its count."""
    def late_failure(*args, **kwargs):
        raise offline.ProgramError("boom", registered=7)
    monkeypatch.setattr(offline, "run", late_failure)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert "(7 resources had been registered before this error)" in capsys.readouterr().err


def test_a_secret_config_key_is_refused_by_name_under_the_engine_too(monkeypatch):
    """`pulumi up` hands the program a secret key decrypted, naming it among the secret keys (the language host's
    PULUMI_CONFIG_SECRET_KEYS; the Automation API's set_all_config): refused as the stack file's `secure:` is
    offline, by its key, the value neither read as a plain setting (a pod spec's literal) nor shown."""
    import contextvars
    import json
    from pulumi.runtime import config as runtime_config
    from config.runtime import raw_project_config
    pasted = "postgres://app:hunter2@db.example.com/app"
    config = {f"{P}:environment": "dev", f"{P}:webui": json.dumps({"extraEnv": {"DB_DSN": pasted}}),
              f"{P}:llmd": json.dumps({"hfTokenSecret": "hf_FAKEtoken"})}

    def read(secret_keys=None):
        runtime_config.set_all_config(config, secret_keys)
        return raw_project_config(P)

    assert contextvars.copy_context().run(read)["webui"] == {"extraEnv": {"DB_DSN": pasted}}  # none listed: read
    for how in ("sdk", "env"):  # an Automation API run / a `pulumi up` program
        if how == "env":
            monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps([f"{P}:webui", f"{P}:llmd"]))
        with pytest.raises(ConfigError) as refused:
            contextvars.copy_context().run(read, [f"{P}:webui", f"{P}:llmd"] if how == "sdk" else None)
        assert [p.split(" ")[0] for p in refused.value.problems] == ["llmd", "webui"], how
        assert "hunter2" not in str(refused.value) and "FAKEtoken" not in str(refused.value)


@pytest.mark.parametrize("case, sets, fragment", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_bad_set_is_refused_naming_the_key(case, sets, fragment, capsys, tmp_path):
    message = _refused(capsys, tmp_path, [arg for s in sets for arg in ("--set", s)])
    assert fragment in message, message


@pytest.mark.parametrize("case, content, fragment", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_stack_file_is_refused_naming_the_key_or_line(case, content, fragment, capsys, tmp_path):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    message = _refused(capsys, tmp_path, ["--stack-file", str(stack_file)])
    assert fragment in message, message


@pytest.mark.parametrize("stack", ["prod", "global", "prod-westeurope", "prod-x", "production", "preprod", "staging",
                                   "dev"])
def test_the_stacks_held_to_prod_by_name_are_the_policy_packs(stack, tmp_path, capsys):
    """The policy pack keys prod on the stack's name (it sees URNs, not config); the config refuses another
    environment for exactly those names, before planning. An empty stack file (every default: environment dev) of
    such a stack was planned whole and then refused by twenty policy violations."""
    from types import SimpleNamespace
    from policy.policies import is_prod
    urn = f"urn:pulumi:{stack}::{P}::azure-native:keyvault:Vault::v"
    named_prod = is_prod(SimpleNamespace(urn=urn))
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text("config: {}\n")
    code = plan_cli.main(["--stack", stack, "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (f"environment 'dev' is invalid for stack {stack!r}; allowed: prod" in err) == named_prod, err[-800:]
    assert code == (1 if named_prod else 0), err[-800:]


def test_a_blank_llmd_size_is_unset_as_any_blank_key_of_a_section(tmp_path, capsys):
    """`maxModelLen:` left blank in the llmd section (YAML's null) is unset, as a blank key of a section is everywhere
    else: it reached LlmdStack as 0 and the component refused it once resources were registered."""
    text = (PROJECT_DIR / "Pulumi.llmd.yaml").read_text()
    assert "    model: Qwen/Qwen3-8B\n" in text
    stack_file = tmp_path / "Pulumi.llmd.yaml"
    stack_file.write_text(text.replace("    model: Qwen/Qwen3-8B\n",
                                       "    model: Qwen/Qwen3-8B\n    maxModelLen:\n    modelMemoryGib: ~\n", 1))
    code = plan_cli.main(["--stack", "llmd", "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err, captured.err[-800:]


def test_whole_numbers_the_cli_types_are_taken_where_a_string_is_expected():
    """`pulumi config set --path postgres.version 17` stores the integer 17 (the CLI types plain integers, and YAML
    reads `version: 17` the same way): a key that takes a string takes it as "17", as it does `cluster.zones[0] 1`
    and a CPU quantity `4`."""
    sets = ["postgres.version=17", "cluster.zones[0]=1", "inference.resources.cpuLimit=4"]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config("dev", sets=sets).items()}
    assert raw["postgres"]["version"] == 17 and raw["cluster"]["zones"] == [1]  # what the CLI would have stored
    cfg = parse_config(raw, P, "dev")
    assert (cfg.postgres.version, cfg.cluster.zones, cfg.inference.resources.cpu_limit) == ("17", ("1",), "4")


def test_a_larger_server_takes_more_ui_replicas():
    """The refusal's way out works: the size it names admits the replicas (and prod's General Purpose server its 6)."""
    cfg = parse_config(stack_raw("dev", {"webui": {"maxReplicas": 5}, "postgres": {"skuName": "Standard_B2s"}}),
                       "p", "dev")
    assert (cfg.webui.max_replicas, cfg.postgres.sku_name) == (5, "Standard_B2s")
    assert parse_config(stack_raw("prod"), "p", "prod").webui.max_replicas == 6


def test_the_catalogue_covers_at_least_80_cases():
    assert len(SET_CASES) + len(FILE_CASES) >= 80
    assert len({c[0] for c in SET_CASES + FILE_CASES}) == len(SET_CASES) + len(FILE_CASES)


def test_set_takes_a_quoted_name_as_pulumi_config_set_path_does(tmp_path, capsys):
    """`pulumi config set --path 'webui.extraEnv["WEBUI_URL"]' ...` (pulumi/pulumi 1b5949891b config/map.go
    `parseKeyPath`, ParsePropertyPathStrict): a quoted name, dots and escaped quotes inside it, is one key; the plan
    CLI's --set, which says it works like that command, refused it as "not a config path"."""
    import json
    from offline.stackfile import apply_sets
    values = apply_sets({}, ['webui.extraEnv["WEBUI_URL"]=https://chat.example.com', 'a["b.c"]["d\\"e"][0]=1'])
    assert values == {"webui": {"extraEnv": {"WEBUI_URL": "https://chat.example.com"}}, "a": {"b.c": {'d"e': [1]}}}
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "dev", "--out", str(out), "--set",
                          'webui.extraEnv["WEBUI_URL"]=https://chat.example.com'])
    assert code == 0, capsys.readouterr().err
    found: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            found.extend([value] if value.get("name") == "WEBUI_URL" else [])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(json.loads((out / "dev.what-if" / "resources.json").read_text()))  # a --set plan is a what-if
    assert found and all(env == {"name": "WEBUI_URL", "value": "https://chat.example.com"} for env in found), found


def test_set_takes_the_project_namespace_as_pulumi_config_set_does(capsys):
    """`pulumi config set --path aks-llm-platform:gpu.maxCount 3` (or the old `<ns>:config:<key>`) sets the same key
    as `gpu.maxCount` (pulumi/pulumi 1b5949891b pkg/cmd/pulumi/config/io.go `parseConfigKey`: the namespace is read
    from the path's first segment); the plan's --set refused it as an unknown key `aks-llm-platform:gpu`. A provider's
    namespace, another project's, or a malformed key is refused by name, the whole run with it."""
    from offline import runner
    from offline.stackfile import ConfigError
    project = runner.project_name()
    plain = runner.stack_config("dev", sets=["gpu.maxCount=3", 'webui.extraEnv["A:B"]=x'])
    for key in (f"{project}:gpu.maxCount=3", f"{project}:config:gpu.maxCount=3"):
        assert runner.stack_config("dev", sets=[key, f'{project}:webui.extraEnv["A:B"]=x']) == plain, key
    assert plain[f"{project}:gpu"]["maxCount"] == 3
    refusals = {"azure-native:location=westus": "the namespace 'azure-native' is a provider's",
                "other-project:gpu.maxCount=3": f"the namespace 'other-project' is not this project's ({project})",
                ":gpu.maxCount=3": "':gpu' is not a config key", "a:b:c=1": "'a:b:c' is not a config key"}
    for item, message in refusals.items():
        with pytest.raises(ConfigError) as refused:
            runner.stack_config("dev", sets=[item])
        assert any(item.split("=")[0] in p and message in p for p in refused.value.problems), refused.value.problems
    code = plan_cli.main(["--stack", "dev", "--out", "/nonexistent-unused", "--set", "azure-native:location=westus"])
    err = capsys.readouterr().err
    assert code != 0 and "'azure-native' is a provider's, read from the stack file" in err and "Traceback" not in err


def test_set_takes_the_project_namespace_before_a_quoted_first_name(capsys):
    """`pulumi config set --path 'aks-llm-platform:["gpu"].maxCount' 3` sets gpu.maxCount: parseConfigKey cuts the
    first segment at its '[' (`aks-llm-platform:`, a key with an empty name) and puts the rest, `["gpu"].maxCount`,
    after that name, which map.go `parseKeyPath` reads as gpu.maxCount (pulumi/pulumi 1b5949891b
    pkg/cmd/pulumi/config/io.go `parseConfigKey`, sdk/go/common/resource/config/key.go `ParseKey`, map.go
    `parseKeyPath`); the old `<ns>:config:` form the same (tokens.go `ParseModuleMember`). It was refused as
    "'aks-llm-platform:' is not a config key". A path starting with an index after the namespace is refused, as
    the CLI refuses it ("first path segement of config key must be a string"), and each refusal names the key as
    typed, its namespace too (it named `gpu..maxCount` for `aks-llm-platform:gpu..maxCount`)."""
    from offline import runner
    from offline.stackfile import ConfigError
    project = runner.project_name()
    plain = runner.stack_config("dev", sets=["gpu.maxCount=3", 'webui.extraEnv["A.B"]=x'])
    for prefix in (f"{project}:", f"{project}:config:"):
        assert runner.stack_config("dev", sets=[f'{prefix}["gpu"].maxCount=3',
                                                f'{prefix}["webui"]["extraEnv"]["A.B"]=x']) == plain, prefix
    for item, message in {f"{project}:[0]=1": "not a config path", f"{project}:gpu..maxCount=1": "not a config path",
                          'azure-native:["location"]=westus': "the namespace 'azure-native' is a provider's"}.items():
        with pytest.raises(ConfigError) as refused:
            runner.stack_config("dev", sets=[item])
        assert any(item.split("=")[0] in p and message in p for p in refused.value.problems), refused.value.problems
    code = plan_cli.main(["--stack", "dev", "--out", "/nonexistent-unused", "--set", f"{project}:[0]=1"])
    err = capsys.readouterr().err
    assert code != 0 and "not a config path" in err and "Traceback" not in err


def test_set_types_only_booleans_and_plain_integers(tmp_path):
    from offline.stackfile import apply_sets
    values = apply_sets({"modelStore": {"models": ["tinyllama"]}},
                        ["a=true", "b=007", "c=-12", "d=1.5", "e=10:30", "f=", "modelStore.models[1]=phi3.5"])
    assert values == {"modelStore": {"models": ["tinyllama", "phi3.5"]}, "a": True, "b": "007", "c": -12,
                      "d": "1.5", "e": "10:30", "f": ""}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CONFIGS)
def test_loader_only_returns_a_config_or_raises_config_error(raw):
    try:
        parse_config(raw, "p", "s")
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


def test_prod_without_tls_plans_only_with_a_private_gateway():
    """The plain-HTTP refusal is of a public prod gateway: a private one stays in the network. A region behind Front
    Door is no longer exempt: Front Door reaches it over HTTPS at gateway.tls.hostname (its certificate checked), so
    a regional prod stack without TLS is refused, naming the key and why."""
    private = parse_config(stack_raw("prod", {"gateway": {"mode": "internal", "tls": None}}), "p", "prod")
    assert not private.gateway.external and private.gateway.tls.mode == "none"
    regional = parse_config(stack_raw("prod-westeurope"), "p", "prod-westeurope")
    assert regional.edge.enabled and regional.gateway.tls.mode == "letsencrypt" and regional.gateway.tls.hostname
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("prod-westeurope", {"gateway": {"tls": None}}), "p", "prod-westeurope")
    assert "gateway.tls.mode 'none' with an external gateway" in str(refused.value)
    assert "Front Door (edge.globalStack) reaches a prod region over HTTPS only" in str(refused.value)


@pytest.mark.parametrize("stack", ["prod", "prod-westeurope", "prod-swedencentral"])
@pytest.mark.parametrize("webui, fragment", [
    ({"adminEmail": None}, "webui.adminEmail is unset while the UI is public and environment is 'prod'"),
    ({"extraEnv": {"WEBUI_AUTH": False}}, "webui.extraEnv.WEBUI_AUTH turns Open-WebUI's sign-in off"),
    ({"extraEnv": {"WEBUI_AUTH_TRUSTED_EMAIL_HEADER": "X-Email"}},
     "webui.extraEnv.WEBUI_AUTH_TRUSTED_EMAIL_HEADER signs in whoever"),
])
def test_prod_refuses_a_public_open_webui_anyone_can_take_over(stack, webui, fragment):
    """Open-WebUI 0.11.0 makes its first account admin whatever ENABLE_SIGNUP says (routers/auths.py), and prod's
    UI is on a public address whose certificate is in the CT logs minutes after the deploy: a prod stack without
    webui.adminEmail handed the admin to whoever signed up first. Dev keeps the advisory
    (tests/config/test_advisories.py); a private UI is not refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw(stack, {"webui": webui}), "aks-llm-platform", stack)
    assert fragment in str(caught.value)
    private = {"webui": webui, "gateway": {"mode": "internal", "tls": None}}
    if stack == "prod":
        parse_config(stack_raw(stack, private), "aks-llm-platform", stack)
    parse_config(stack_raw(stack, {"webui": {"adminEmail": "ops@example.com"}}), "aks-llm-platform", stack)


@pytest.mark.parametrize("stack", ["prod", "prod-westeurope", "prod-swedencentral"])
def test_prod_refuses_a_public_model_api_without_keys(stack):
    """gateway.apiKeyAuth false with an external gateway published the raw model API (and llm-d's, when exposed) to
    the internet with no credential at all, only an advisory: in prod that is anyone's free GPU. A region behind
    Front Door is no exception (the edge publishes /v1/* on its public endpoint)."""
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw(stack, {"gateway": {"apiKeyAuth": False}}), "aks-llm-platform", stack)
    assert "gateway.apiKeyAuth is false while the model API is public and environment is 'prod'" in str(caught.value)
    if stack == "prod":  # a private gateway may go without keys
        parse_config(stack_raw(stack, {"gateway": {"apiKeyAuth": False, "mode": "internal", "tls": None},
                                       "webui": {"adminEmail": None}}), "aks-llm-platform", stack)


@pytest.mark.parametrize("subnet, expected", [
    ("10.40.32.0/20", "10.40.47.250"),  # the default is outside: the same place in the stack's own subnet
    ("10.40.0.0/17", "10.40.15.250"),   # the default is inside: kept, so a deployed load balancer does not move
])
def test_an_unset_internal_ip_follows_a_node_subnet_that_cannot_hold_the_default(subnet, expected, tmp_path, capsys):
    """A stack with another `network.nodeSubnetCidr` and an internal Gateway was refused for `gateway.internalIp`,
    a key it never set; the address now follows the subnet where the default cannot be in it."""
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", f"network.nodeSubnetCidr={subnet}",
                          "--set", "network.endpointsSubnetCidr=10.40.200.0/24",
                          "--set", "network.postgresSubnetCidr=10.40.201.0/24", "--set", "gateway.mode=both"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-800:]
    assert f'gatewayInternalAddress: "{expected}"' in captured.out


def test_a_postgres_size_in_another_case_is_planned_and_priced_as_the_catalog_spells_it(tmp_path, capsys):
    """Azure takes a Flexible Server size in any case (azure-cli compares them lowercased and sends the user's
    spelling); `postgres.skuName=standard_b2s` was refused as "not in the stack's catalog" though the catalog lists
    Standard_B2s. It is planned as the catalog spells it: the server's `sku.name` and its price."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "dev", "--out", str(out), "--set", "postgres.skuName=standard_B2S"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.out + captured.err, captured.err
    import json
    plan = out / "dev.what-if"
    servers = [r for r in json.loads((plan / "resources.json").read_text())["resources"]
               if r["type"] == "azure-native:dbforpostgresql:Server"]
    assert [s["inputs"]["sku"]["name"] for s in servers] == ["Standard_B2s"]
    cost = json.loads((plan / "cost.json").read_text())
    assert any(line["item"] == "PostgreSQL Standard_B2s" for line in cost["lines"]), cost["lines"]
    assert not [u for u in cost["unpriced"] if "postgres" in u.lower()], cost["unpriced"]


def test_alert_emails_are_held_to_azure_monitors_limits_and_no_stricter(tmp_path, capsys):
    """An action group takes at most 1,000 e-mail receivers of at most 64 characters each (Azure Monitor's service
    limits; its API has no pattern): the 1001st address and a 65-character one are refused by `make plan`, before
    `pulumi up` would meet them; an address under an internationalised top-level domain (punycode), and one of
    exactly 64 characters, are planned as receivers."""
    taken = ["oncall@example.xn--p1ai", "x" * 52 + "@contoso.com"]
    argv = [f"--set=observability.alertEmails[{i}]={e}" for i, e in enumerate(taken)]
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path / "taken"), *argv]) == 0, capsys.readouterr().err
    resources = json.loads((tmp_path / "taken" / "prod.what-if" / "resources.json").read_text())["resources"]
    [group] = [r for r in resources if r["type"] == "azure-native:monitor:ActionGroup"]
    assert [e["emailAddress"] for e in group["inputs"]["emailReceivers"]] == taken
    thousand = [f"oncall-{i:04d}@contoso.com" for i in range(1000)]
    parse_config(stack_raw("prod", {"observability": {"alertEmails": thousand}}), "p", "prod")  # Azure's limit: taken
    capsys.readouterr()
    argv = [f"--set=observability.alertEmails[{i}]={e}" for i, e in enumerate([*thousand, "oncall-1000@contoso.com"])]
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path / "refused"), *argv]) == 1
    message = capsys.readouterr().err
    assert "observability.alertEmails ['oncall-0000@contoso.com'," in message, message
    assert ("is invalid; allowed: at most 1000 addresses, not 1001 (Azure Monitor's limit of e-mail receivers in an "
            "action group)") in message, message
    assert not (tmp_path / "refused").exists()


def test_a_refused_set_key_of_pages_is_echoed_cut(capsys):
    """A refused `--set` named its key whole: a pasted value of 60,000 characters was printed twice, burying the
    refusal. The key is cut after 100 characters, with its length, in every refusal that echoes it."""
    long_name = "x" * 60_000
    for item in (f"{long_name}", f"other:{long_name}=1", f"{long_name}..a=1", f"a:b:{long_name}=1"):
        code = plan_cli.main(["--stack", "dev", "--out", "/nonexistent-unused", "--set", item])
        err = capsys.readouterr().err
        assert code != 0 and "60," in err and "characters)" in err, err[:300]
        assert len(err) < 5_000, (item[:20], len(err))


def test_the_share_room_is_one_rule_with_one_message_and_none_when_nothing_is_pulled():
    """The stack had a room rule of its own beside ModelStore's (stranger15): it refused a share with preload off,
    when the Job pulls nothing, and named a size one GiB above the least that fits (94.5 GiB of models: "at least
    106", where 105 holds them with 10 % free). Now the stack's sizes go through the component's rule: one message,
    the least size exact, nothing refused with `modelStore.preload` off or `preloadDryRun`."""
    models = [{"name": f"hf.co/org/m{i}:Q4_K_M", "sizeGib": 9.45} for i in range(10)]  # 94.5 GiB, each under 12Gi

    def problems(**store) -> str:
        try:
            parse_config(stack_raw("dev", {"modelStore": {"models": models, **store}}), "p", "dev")
        except ConfigError as e:
            return str(e)
        return ""
    refused = problems()
    assert refused.count("modelStore.sizeGib") == 1 and "leaves under" not in refused, refused
    assert "modelStore.sizeGib 100 is invalid; allowed: at least 105 GiB: 10 % of the share free above the ~" in refused
    assert " GiB of the models to preload (modelStore.models), or the preload Job runs out of room" in refused
    assert problems(sizeGib=105) == ""
    assert problems(preload=False) == "" and problems(preloadDryRun=True) == ""
