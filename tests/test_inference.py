"""InferenceStack, KeyVault, PostgresServer and GatewayAccess as the real program registers them under mocks."""
from __future__ import annotations

import json
import math
import re
import shlex

import pytest

from config.loader import parse_config
from llmplatform.inference_specs import api_key_map_line, drain_script, key_vault_objects, router_nginx_conf
from offline import runner as offline
from llmplatform.key_vault import secret_expiry
from offline.plan import resources_document

from .conftest import UPSTREAM, VARIANTS, variant

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MOCK_SECRETS = ("offline-random-value", "offline-fake-key")


def deployment(plan, name):
    return next(r for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == name).inputs


def diff_paths(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for k in sorted(set(a) | set(b)) for p in diff_paths(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in diff_paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def test_cpu_to_gpu_changes_only_scheduling_and_resources():
    cpu, gpu = deployment(variant("dev"), "ollama"), deployment(variant("dev-gpu"), "ollama")
    changed = diff_paths(cpu, gpu)
    assert changed and all(p.startswith((".spec.template.spec.nodeSelector", ".spec.template.spec.tolerations",
                                         ".spec.template.spec.containers[0].resources",
                                         # the await deadline of a GPU start from zero (the deploy model's rule)
                                         ".metadata.annotations.pulumi.com/timeoutSeconds")) for p in changed), changed
    pod = gpu["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-platform/pool": "gpu"}
    assert {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
            "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert cpu["spec"]["template"]["spec"]["nodeSelector"] == {"llm-platform/pool": "cpu"}


def test_ollama_is_pinned_hardened_probed_and_reads_the_shared_store(dev):
    d = deployment(dev, "ollama")
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"].startswith("docker.io/ollama/ollama:") and not c["image"].endswith(":latest")
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["seccompProfile"]["type"] == "RuntimeDefault" and sc["runAsNonRoot"] is True
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 600
    assert c["readinessProbe"]["httpGet"]["port"] == 11434 and c["livenessProbe"]["httpGet"]["path"] == "/"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["OLLAMA_MODELS"] == "/models" and env["OLLAMA_NUM_PARALLEL"] == "2"
    assert env["OLLAMA_KEEP_ALIVE"] == "30m" and env["OLLAMA_MAX_LOADED_MODELS"] == "1"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "models"
    assert {t["topologyKey"] for t in pod["topologySpreadConstraints"]} == {"kubernetes.io/hostname",
                                                                            "topology.kubernetes.io/zone"}
    prod_env = {e["name"]: e["value"] for e in deployment(variant("prod"), "ollama")["spec"]["template"]["spec"][
        "containers"][0]["env"]}
    assert prod_env["OLLAMA_NUM_PARALLEL"] == "4" and prod_env["OLLAMA_MAX_LOADED_MODELS"] == "2"


def test_every_workload_has_a_disruption_budget(any_plan):
    budgets = {r.inputs["metadata"]["name"] for r in any_plan.of_type("kubernetes:policy/v1:PodDisruptionBudget")}
    deployments = {r.inputs["metadata"]["name"] for r in any_plan.of_type(DEPLOYMENT)}
    assert deployments <= budgets


def test_network_policies_admit_only_the_gateway_ui_and_jobs_to_ollama(dev):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in
                dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    ollama = policies["ollama-ingress"]
    assert ollama["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ollama"}
    sources = ollama["ingress"][0]["from"]
    assert sources[0]["podSelector"]["matchExpressions"][0]["values"] == ["router", "open-webui"]
    assert sources[1]["podSelector"]["matchExpressions"][0] == {"key": "batch.kubernetes.io/job-name",
                                                                "operator": "Exists"}
    for name in ("router-ingress", "open-webui-ingress"):
        assert "namespaceSelector" in policies[name]["ingress"][0]["from"][0]


def test_open_webui_is_stateless_on_postgres_with_secrets_from_key_vault(dev, prod):
    d = deployment(dev, "open-webui")
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    assert env["VECTOR_DB"]["value"] == "pgvector"
    # secrets are files from the CSI mount, exported by the start command: none in the spec or a Kubernetes Secret
    start = c["command"][-1]
    for name, file in (("DATABASE_URL", "database-url"), ("PGVECTOR_DB_URL", "database-url"),
                       ("WEBUI_SECRET_KEY", "webui-secret-key")):
        assert name not in env and f"{name}=\"$(cat '/mnt/secrets-store/{file}')\"" in start
    assert start.rstrip().endswith("exec bash start.sh") and c["workingDir"] == "/app/backend"
    assert not [e for e in c["env"] if "valueFrom" in e]
    assert d["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["serviceAccountName"] == "open-webui"
    assert d["spec"]["replicas"] == 1 and deployment(prod, "open-webui")["spec"]["replicas"] == 3
    # replicas share websocket sessions through an in-cluster Valkey only Open-WebUI may reach
    plain = {e["name"]: e.get("value") for e in c["env"]}
    assert plain["WEBSOCKET_MANAGER"] == "redis" and plain["WEBSOCKET_REDIS_URL"] == "redis://webui-redis:6379/0"
    redis_policy = next(r.inputs["spec"] for r in dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                        if r.inputs["metadata"]["name"] == "webui-redis-ingress")
    assert redis_policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "open-webui"}
    uploads = dev.one("kubernetes:core/v1:PersistentVolumeClaim", "inference-webui-uploads").inputs
    assert uploads["spec"]["accessModes"] == ["ReadWriteMany"]
    hpa = dev.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 3)
    spc = next(r.inputs for r in dev.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
               if r.inputs["metadata"]["name"] == "open-webui-secrets")
    assert spc["spec"]["parameters"]["clientID"] == "id-llmp-dev-open-webui-client"
    assert spc["spec"]["parameters"]["usePodIdentity"] == "false"
    assert "secretObjects" not in spc["spec"]
    objects = spc["spec"]["parameters"]["objects"]
    assert "objectAlias: database-url" in objects and "objectAlias: webui-secret-key" in objects
    sa = next(r.inputs for r in dev.of_type("kubernetes:core/v1:ServiceAccount")
              if r.inputs["metadata"]["name"] == "open-webui")
    assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == "id-llmp-dev-open-webui-client"
    federation = next(r.inputs for r in dev.of_type("azure-native:managedidentity:FederatedIdentityCredential")
                      if "open-webui" in r.name)
    assert federation["subject"] == "system:serviceaccount:llm:open-webui"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]


def test_no_secret_literal_in_env_outputs_or_plan_files(any_plan):
    for r in any_plan.kubernetes_objects():
        text = json.dumps(r.inputs)
        if r.type != "kubernetes:core/v1:Secret":
            assert not any(s in text for s in MOCK_SECRETS), r.name
    for key, value in any_plan.outputs.items():
        if key not in any_plan.secret_outputs:
            assert not any(s in json.dumps(value) for s in MOCK_SECRETS), key
    assert not any(s in json.dumps(resources_document(any_plan)) for s in MOCK_SECRETS)
    for secret in any_plan.of_type("azure-native:keyvault:Secret"):
        assert any(p.startswith("properties") for p in secret.secret_paths), secret.name


def test_key_vault_secrets_have_content_type_and_expiry(dev):
    secrets = dev.of_type("azure-native:keyvault:Secret")
    assert {s.inputs["secretName"] for s in secrets} >= {"postgres-admin-password", "postgres-database-url",
                                                          "inference-webui-secret-key", "inference-api-key",
                                                          "inference-api-key-map"}
    for s in secrets:
        assert s.inputs["properties"]["contentType"] and s.inputs["properties"]["attributes"]["expires"] > 0


def test_identities_may_only_read_secrets(dev):
    readers = [r for r in dev.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("kv-reader")]
    assert len(readers) == 2
    for r in readers:
        assert r.inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6")
        assert r.inputs["scope"].endswith("/Vault/kv-llmp-dev-7a1ba17d2ce9")


def test_prod_postgres_and_key_vault_are_protected_and_private(prod, dev):
    server = prod.one("azure-native:dbforpostgresql:Server")
    vault = prod.one("azure-native:keyvault:Vault")
    assert server.options["protect"] and vault.options["protect"]
    assert prod.one("azure-native:dbforpostgresql:Database").options["protect"]
    assert prod.one("azure-native:network:PublicIPAddress").options["protect"]  # DNS points at it
    assert prod.one("azure-native:resources:ResourceGroup", "platform-rg").options["protect"]
    assert server.inputs["network"]["publicNetworkAccess"] == "Disabled"
    assert server.inputs["network"]["delegatedSubnetResourceId"].endswith("/Subnet/postgres")
    props = vault.inputs["properties"]
    assert props["publicNetworkAccess"] == "Disabled" and props["enablePurgeProtection"] is True
    assert props["enableRbacAuthorization"] is True and props["softDeleteRetentionInDays"] == 90
    endpoint = prod.one("azure-native:network:PrivateEndpoint").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
    assert not dev.one("azure-native:dbforpostgresql:Server").options["protect"]
    assert dev.of_type("azure-native:dbforpostgresql:FirewallRule") == []  # dev is private too: no 0.0.0.0 rule
    dev_acl = dev.one("azure-native:keyvault:Vault").inputs["properties"]["networkAcls"]
    assert dev_acl["defaultAction"] == "Deny" and len(dev_acl["virtualNetworkRules"]) == 1


def test_postgres_settings_per_stack(dev, prod):
    d, p = dev.one("azure-native:dbforpostgresql:Server").inputs, prod.one("azure-native:dbforpostgresql:Server").inputs
    assert int(d["version"]) >= 16 and int(p["version"]) >= 16
    assert d["sku"]["tier"] == "Burstable" and p["sku"]["tier"] == "GeneralPurpose"
    assert d["highAvailability"]["mode"] == "Disabled" and p["highAvailability"]["mode"] == "ZoneRedundant"
    assert d["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert p["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert d["storage"]["autoGrow"] == "Enabled" and d["authConfig"]["passwordAuth"] == "Enabled"  # Entra: below
    params = {r.inputs["configurationName"]: r.inputs["value"]
              for r in dev.of_type("azure-native:dbforpostgresql:Configuration")}
    assert params == {"azure.extensions": "VECTOR", "require_secure_transport": "ON"}
    assert dev.one("azure-native:dbforpostgresql:Database").inputs["databaseName"] == "openwebui"


def gateway_specs(plan):
    return {r.inputs["metadata"]["name"]: r.inputs["spec"]
            for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}


def test_gateways_internal_and_external_on_cpu_nodes(prod, dev):
    assert set(gateway_specs(dev)) == {"external-gateway"}  # dev: gateway.mode external, one load balancer
    gateways = gateway_specs(prod)
    assert set(gateways) == {"internal-gateway", "external-gateway"}
    internal = gateways["internal-gateway"]["infrastructure"]["annotations"]
    assert internal["service.beta.kubernetes.io/azure-load-balancer-internal"] == "true"
    assert internal["service.beta.kubernetes.io/azure-load-balancer-ipv4"] == "10.40.15.250"
    external = gateways["external-gateway"]["infrastructure"]["annotations"]
    assert external["service.beta.kubernetes.io/azure-pip-name"] == "pip-llmp-prod-gateway"
    assert all(g["gatewayClassName"] == "istio" for g in gateways.values())
    istiod = next(r for r in prod.helm_releases() if r.inputs["chart"] == "istiod").inputs["values"]
    klass = istiod["gatewayClasses"]["istio"]
    assert klass["deployment"]["spec"]["template"]["spec"]["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert klass["service"]["spec"]["externalTrafficPolicy"] == "Local"
    assert prod.outputs["gatewayInternalAddress"] == "10.40.15.250" and prod.outputs["gatewayExternalAddress"]
    assert dev.outputs["gatewayInternalAddress"] is None and dev.outputs["gatewayExternalAddress"]


def test_internal_only_gateway_variant():
    plan = variant("dev-smb-nogpu")
    assert plan.outputs["modelApiUrl"] == "http://10.40.15.250:8080"  # no public address: the internal one
    names = {r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    assert names == {"internal-gateway"} and plan.of_type("azure-native:network:PublicIPAddress") == []
    routes = plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    assert [r.inputs["metadata"]["name"] for r in routes] == ["api-route"]  # no UI when Open-WebUI is off


def test_routes_publish_ui_and_api_with_long_timeouts(prod):
    routes = {r.inputs["metadata"]["name"]: r.inputs["spec"]
              for r in prod.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")}
    assert routes["ui-route"]["rules"][0]["backendRefs"] == [{"name": "open-webui", "port": 8080}]
    assert routes["api-route"]["rules"][0]["backendRefs"] == [{"name": "router", "port": 8080}]
    for spec in routes.values():
        assert {p["name"] for p in spec["parentRefs"]} == {"internal-gateway", "external-gateway"}
        timeouts = spec["rules"][0]["timeouts"]
        assert int(timeouts["request"].rstrip("s")) >= 300 and timeouts["backendRequest"] == timeouts["request"]
    assert {p["sectionName"] for p in routes["api-route"]["parentRefs"]} == {"api"}


def test_router_limits_per_client_with_429_and_requires_a_key(dev):
    conf = dev.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
    assert "limit_req_zone $binary_remote_addr zone=per_client:10m rate=" in conf  # rates: the test below
    assert "limit_req_status 429;" in conf and " nodelay;" in conf
    assert "include /mnt/secrets-store/inference-api-key-map;" in conf and "return 401" in conf
    assert "set_real_ip_from 192.168.0.0/16;" in conf  # timeouts: the chain test in test_observability.py
    router = deployment(dev, "router")["spec"]["template"]["spec"]
    assert router["nodeSelector"] == {"llm-platform/pool": "cpu"}
    assert router["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_tls_variant_issues_a_lets_encrypt_certificate():
    plan = variant("prod-tls")
    assert plan.outputs["webUiUrl"] == "https://llm.example.com"
    assert plan.outputs["modelApiUrl"] == "https://llm.example.com:8443"
    issuer = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]
    assert issuer["email"] == "platform@example.com"
    assert issuer["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["sectionName"] == "acme"
    cert = plan.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]
    assert cert["dnsNames"] == ["llm.example.com"]
    gateway = next(r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
                   if r.inputs["metadata"]["name"] == "external-gateway")
    https = [lst for lst in gateway["listeners"] if lst["protocol"] == "HTTPS"]
    assert {lst["port"] for lst in https} == {443, 8443}
    assert all(lst["tls"]["certificateRefs"][0]["name"] == "gateway-tls" for lst in https)
    redirect = next(r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                    if r.inputs["metadata"]["name"] == "https-redirect")
    assert redirect["rules"][0]["filters"][0]["requestRedirect"] == {"scheme": "https", "statusCode": 301}


def test_pure_helpers():
    assert api_key_map_line("abc") == '"Bearer abc" 1;\n'
    assert "objectName: db-url" in key_vault_objects(["db-url"])
    conf = router_nginx_conf("ollama:11434", 5, 0, False, [], 300)
    assert "return 401" not in conf and "rate=300r/m" in conf  # 5 r/s on one pod
    from datetime import date
    assert secret_expiry(date(2026, 11, 25)) == secret_expiry(date(2026, 1, 1)) > secret_expiry(date(2025, 6, 1))


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_outputs_name_the_endpoints(name):
    outputs = variant(name).outputs
    assert outputs["webUiUrl"].startswith("http://") and outputs["modelApiUrl"].endswith(":8080")
    assert outputs["apiKeySecret"] == "inference-api-key"


def _images(obj):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "image" and isinstance(value, str):
                # a custom resource naming its image in parts (NicClusterPolicy: repository, image, version)
                yield f"{obj['repository']}/{value}:{obj['version']}" if {"repository", "version"} <= obj.keys() \
                    else value
            else:
                yield from _images(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _images(item)


def test_every_image_we_run_is_pinned(any_plan):
    images = [i for r in any_plan.kubernetes_objects() for i in _images(r.inputs)]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag and tag not in ("latest", "main", ""), image


def open_webui_migrates(env: dict) -> bool:
    """Open-WebUI 0.11.0 (PyPI wheel), open_webui/env.py: ENABLE_DB_MIGRATIONS = os.getenv('ENABLE_DB_MIGRATIONS',
    'True').lower() == 'true'; open_webui/config.py then runs `alembic upgrade head` when imported (the server
    imports it at start)."""
    return str(env.get("ENABLE_DB_MIGRATIONS", "True")).lower() == "true"


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_one_job_migrates_open_webuis_schema_and_the_replicas_wait_for_it(name):
    plan = variant(name)
    reg = next(r for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "open-webui")
    pod = reg.inputs["spec"]["template"]["spec"]
    app = pod["containers"][0]
    # replicas (up to webui.maxReplicas under the HPA) start together: none of them may migrate
    assert not open_webui_migrates({e["name"]: e.get("value") for e in app["env"]})
    migrators = [j for j in plan.of_type("kubernetes:batch/v1:Job")
                 if j.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == app["image"]]
    assert len(migrators) == 1
    job = migrators[0].inputs["spec"]
    assert job.get("parallelism", 1) == 1 and job.get("completions", 1) == 1
    worker = job["template"]["spec"]["containers"][0]
    assert 'command.upgrade(c, "head")' in worker["command"][-1]
    # the same database URL and identity as the app, and the app's pods start only after the upgrade
    assert "DATABASE_URL=\"$(cat '/mnt/secrets-store/database-url')\"" in worker["command"][-1]
    assert job["template"]["spec"]["serviceAccountName"] == pod["serviceAccountName"]
    assert plan.waits_for(reg, lambda dep: dep is migrators[0])
    # a new image is a new Job (a Job's pod template is immutable), so an upgrade migrates again
    assert migrators[0].options.get("deleteBeforeReplace") and migrators[0].inputs["metadata"]["name"].startswith(
        "open-webui-migrate-")


# ---- the API gate forwards only Ollama's inference and listing routes ------------------------------------------
OLLAMA_ROUTES = UPSTREAM / "ollama" / "routes.tsv"  # Ollama v0.32.15 server/routes.go, with its section comments
LISTING = {"/api/tags", "/api/show", "/api/version"}  # read-only, in upstream's "Local model cache management"/"General"
MANAGEMENT = {"/api/pull", "/api/push", "/api/create", "/api/delete", "/api/copy", "/api/blobs/:digest"}


def upstream_routes():
    rows = [line.split("\t") for line in OLLAMA_ROUTES.read_text().splitlines() if not line.startswith("#")]
    return [(method, path, section) for method, path, section in rows]


def nginx_locations(conf):
    """(modifier, pattern, body) of each location in the server block, in order."""
    found, pattern = [], re.compile(r'location\s+(=|~\*|~|\^~)?\s*("[^"]*"|\S+)\s*\{')
    for m in pattern.finditer(conf):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        found.append((m.group(1) or "", m.group(2).strip('"'), conf[m.end():i - 1]))
    return found


def nginx_location_for(conf, uri):
    """nginx's location choice (ngx_http_core_module): an exact match; else the longest prefix, unless a regex
    (in order of appearance) matches and the prefix is not ^~."""
    locations = nginx_locations(conf)
    exact = [loc for loc in locations if loc[0] == "=" and loc[1] == uri]
    if exact:
        return exact[0]
    prefixes = sorted((loc for loc in locations if loc[0] in ("", "^~") and uri.startswith(loc[1])),
                      key=lambda loc: len(loc[1]), reverse=True)
    if prefixes and prefixes[0][0] == "^~":
        return prefixes[0]
    for modifier, regex, body in locations:
        if modifier in ("~", "~*") and re.search(regex, uri, re.IGNORECASE if modifier == "~*" else 0):
            return modifier, regex, body
    return prefixes[0] if prefixes else None


def forwarded(conf, route):
    uri = "/".join({":model": "llama3.1:8b"}.get(p, "x1") if p.startswith(":") else p for p in route.split("/"))
    location = nginx_location_for(conf, uri)
    return location is not None and "proxy_pass" in location[2]


def test_api_gate_forwards_only_ollamas_inference_and_listing_routes(dev, prod):
    routes = upstream_routes()
    wanted = {path for _, path, section in routes
              if section.startswith("Inference") or "compatible" in section or path in LISTING}
    assert MANAGEMENT <= {path for _, path, _ in routes} and not MANAGEMENT & wanted
    for plan in (dev, prod):
        conf = plan.one("kubernetes:core/v1:ConfigMap", "inference-router-config").inputs["data"]["nginx.conf"]
        through = {path for _, path, _ in routes if forwarded(conf, path)}
        assert through == wanted, (sorted(through - wanted), sorted(wanted - through))
        refused = nginx_location_for(conf, "/api/pull")[2]
        assert "return 401" in refused and "return 403" in refused  # the key is checked before the refusal


def test_route_checker_sees_an_open_gate():
    """The seed's config (one `location /` proxying everything) forwards the management routes."""
    conf = router_nginx_conf("ollama:11434", 5, 0, False, [], 300)
    assert all(forwarded(conf, path) for path in MANAGEMENT)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_ollama_drains_the_answers_in_flight_before_it_stops(name):
    """Ollama v0.32.15 (server/routes.go, Serve) calls srvr.Close() on SIGTERM: every open stream is cut. Kubernetes
    runs the preStop hook first and sends SIGKILL at terminationGracePeriodSeconds, the hook's time included; the
    terminating pod leaves the Service's ready endpoints, so no new request arrives meanwhile."""
    stack, overrides = VARIANTS[name]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(stack, overrides).items()}
    longest_answer = parse_config(raw, "p", stack).gateway.request_timeout_seconds
    pod = deployment(variant(name), "ollama")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    hook = container["lifecycle"]["preStop"]["exec"]["command"][-1]
    port = container["ports"][0]["containerPort"]
    assert f"$2 ~ /:{port:04X}$/" in hook  # /proc/net/tcp writes the local port in hex
    deadline = int(re.search(r"\$\(date \+%s\) \+ (\d+)", hook).group(1))
    assert deadline >= longest_answer and pod["terminationGracePeriodSeconds"] > deadline


def test_drain_hook_waits_for_an_established_connection_only(tmp_path):
    """The hook against /proc/net/tcp's format (Linux proc(5)): a connection to 11434 in state 01 keeps it waiting;
    a listening socket (0A) and other ports do not."""
    import subprocess
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    listen = "   0: 00000000:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65532 0 1 1\n"
    other = "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000 65532 0 2 1\n"
    busy = "   2: 0A00000B:2CAA 0A00000C:C350 01 00000000:00000000 00:00000000 00000000 65532 0 3 1\n"
    waited = []
    for lines in ((listen, other), (listen, other, busy)):
        (tmp_path / "tcp").write_text(header + "".join(lines))
        (tmp_path / "tcp6").write_text(header)
        log = tmp_path / "waits"
        log.write_text("")
        # one round of the loop: it waits (and here stops) only while a connection is open
        script = drain_script(11434, 60).replace("/proc/net", str(tmp_path)).replace("sleep 5", ":").replace(
            "sleep 2", f"echo wait >> {log}; exit 0")
        subprocess.run(["sh", "-c", script], check=True, timeout=10)
        waited.append(log.read_text().count("wait"))
    assert waited[0] == 0 and waited[1] >= 1


def test_every_planned_postgres_has_entra_auth_only_with_an_administrator(any_plan):
    from .test_components_alone import entra_mismatches
    assert entra_mismatches(any_plan) == []


def test_a_managed_grafana_nobody_may_open_is_named(any_plan):
    from .test_components_alone import GRAFANA_ROLES
    for grafana in any_plan.of_type("azure-native:dashboard:Grafana"):
        roles = [a for a in any_plan.of_type("azure-native:authorization:RoleAssignment")
                 if a.inputs["scope"].endswith("/" + grafana.inputs["workspaceName"])
                 and a.inputs["roleDefinitionId"].rsplit("/", 1)[1] in GRAFANA_ROLES]
        assert roles or any("Grafana role" in w for w in any_plan.warnings)


# The Open-WebUI image (its Dockerfile) bakes its model caches under DATA_DIR /app/backend/data:
# WHISPER_MODEL_DIR /app/backend/data/cache/whisper/models, SENTENCE_TRANSFORMERS_HOME and HF_HOME
# /app/backend/data/cache/embedding/models. Upstream's chart (open-webui 16.0.0, templates/workload-manager.yaml)
# copies them into the data volume with an init container `cp -R -n /app/backend/data/* <volume>/`.
IMAGE_CACHES = ("/app/backend/data/cache/whisper/models", "/app/backend/data/cache/embedding/models")


def test_open_webui_copies_the_images_caches_into_its_data_volume(dev):
    pod = deployment(dev, "open-webui")["spec"]["template"]["spec"]
    app = pod["containers"][0]
    data = next(m for m in app["volumeMounts"] if any(c.startswith(m["mountPath"] + "/") for c in IMAGE_CACHES))
    copies = [c for c in pod.get("initContainers", []) if c["image"] == app["image"]
              and any(m["name"] == data["name"] for m in c["volumeMounts"])]
    assert len(copies) == 1, "the volume hides the image's caches and nothing copies them in"
    init = copies[0]
    target = next(m["mountPath"] for m in init["volumeMounts"] if m["name"] == data["name"])
    assert target != data["mountPath"]  # mounted elsewhere, the image's own directory stays visible
    argv = shlex.split(init["command"][-1])
    assert argv[:3] == ["cp", "-R", "-n"]  # recursive, never over a user's files
    assert argv[3] == data["mountPath"] + "/*" and argv[4].rstrip("/") == target



def nginx_rate_per_second(conf):
    """limit_req_zone's rate (ngx_http_limit_req_module: r/s or r/m) and the location's burst."""
    number, unit = re.search(r"limit_req_zone \S+ zone=per_client:\S+ rate=(\d+)r/([sm]);", conf).groups()
    return int(number) / (60 if unit == "m" else 1), int(re.search(r"limit_req zone=per_client burst=(\d+)", conf)[1])


@pytest.mark.parametrize("name", ["dev", "prod", "llmd"])
def test_router_pods_together_admit_the_configured_client_rate_with_one_worker_per_cpu(name):
    """nginx keeps a limit_req zone in one instance's shared memory (ngx_http_limit_req_module), so each router pod
    counts a client apart: what a client gets is the per-pod rate times the pods. `worker_processes auto` is the
    number of CPUs the node has online (sysconf), not the container's CPU limit."""
    stack, overrides = VARIANTS[name]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(stack, overrides).items()}
    gateway = parse_config(raw, "p", stack).gateway
    plan = variant(name)
    for config_map in (r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if r.name.endswith("-router-config")):
        conf = config_map.inputs["data"]["nginx.conf"]
        namespace = config_map.inputs["metadata"]["namespace"]
        router = next(r.inputs for r in plan.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "router"
                      and r.inputs["metadata"]["namespace"] == namespace)
        pods = router["spec"]["replicas"]
        rate, burst = nginx_rate_per_second(conf)
        assert rate * pods == pytest.approx(gateway.rate_limit_per_second, rel=0.05), (namespace, rate, pods)
        assert burst * pods >= gateway.rate_limit_burst and (burst - 1) * pods < gateway.rate_limit_burst
        cpu = router["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
        workers = re.search(r"^worker_processes (\S+);", conf, re.M)[1]
        assert workers != "auto" and 1 <= int(workers) <= max(1, math.ceil(float(cpu)))
