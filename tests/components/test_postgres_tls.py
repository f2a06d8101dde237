"""Open-WebUI on Azure Database for PostgreSQL: the server verified (sslmode=verify-full against Azure's root CAs,
which every pod that connects mounts) and a role of Open-WebUI's own (made by the bootstrap Job as the
administrator, whose URL no Open-WebUI pod can read)."""
from __future__ import annotations

import base64
import hashlib
import posixpath
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from llmplatform import postgres_access
from llmplatform.input_rules import postgres_server

from tests.conftest import variant

SECRET = "azure-native:keyvault:Secret"
JOB = "kubernetes:batch/v1:Job"
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"

# Microsoft Learn, "Azure Certificate Authority details" (MicrosoftDocs azure-docs articles/security/fundamentals/
# azure-ca-details.md, ms.date 11/27/2023): each root's SHA-1 thumbprint. The three Azure Database for PostgreSQL
# chains to (security-tls.md: DigiCert Global Root G2, Microsoft RSA Root CA 2017; DigiCert Global Root CA for China
# regions and subscriptions with a rotation extension).
AZURE_POSTGRES_ROOTS = {
    "DigiCert Global Root G2": "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
    "Microsoft RSA Root Certificate Authority 2017": "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
    "DigiCert Global Root CA": "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
}


def pem_thumbprints(pem: str) -> list[str]:
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----\n(.+?)-----END CERTIFICATE-----", pem, re.S)
    return [hashlib.sha1(base64.b64decode("".join(b.split()))).hexdigest().upper() for b in blocks]


def test_the_mounted_roots_are_exactly_the_azure_postgres_root_cas_by_thumbprint():
    # a certificate's thumbprint is the SHA-1 of its bytes: these are Microsoft's published roots, and nothing else
    # (no intermediate: Azure rotates those unannounced, and calls trusting one unsupported)
    assert sorted(pem_thumbprints(postgres_access.root_certificates())) == sorted(AZURE_POSTGRES_ROOTS.values())


def secret_value(plan, name: str) -> str:
    return next(s.inputs["properties"]["value"] for s in plan.of_type(SECRET) if s.inputs["secretName"] == name)


@pytest.mark.parametrize("stack", ["dev", "prod", "llmd"])
def test_the_ui_verifies_the_server_with_a_root_file_every_pod_that_connects_mounts(stack):
    plan = variant(stack)
    server = next(r for r in plan.of_type("azure-native:dbforpostgresql:Server"))
    url = urlsplit(secret_value(plan, "postgres-database-url"))
    query = parse_qs(url.query)  # as Open-WebUI's db.py extract_ssl_params_from_url reads it (0.11.0)
    assert query == {"sslmode": ["verify-full"], "sslrootcert": [postgres_access.ROOTS_PATH]}
    # verify-full checks the name the client dials: the server's name under postgres.database.azure.com, which its
    # certificate carries (the private zone answers it inside the VNet)
    assert url.hostname == f"{server.inputs['serverName']}.postgres.database.azure.com"
    # its own role, never the server's administrator
    assert unquote(url.username or "") == postgres_access.APP_LOGIN != server.inputs["administratorLogin"]
    roots = next(o for o in plan.kubernetes_objects() if o.type == "kubernetes:core/v1:ConfigMap"
                 and o.inputs["metadata"]["name"] == postgres_access.ROOTS_CONFIGMAP)
    assert roots.inputs["data"] == {posixpath.basename(postgres_access.ROOTS_PATH): postgres_access.root_certificates()}
    connecting = [o for o in plan.kubernetes_objects()
                  if o.type == "kubernetes:apps/v1:Deployment" and o.inputs["metadata"]["name"] == "open-webui"
                  or o.type == JOB and o.inputs["metadata"]["name"].startswith("open-webui-")]
    assert {o.inputs["metadata"]["name"].rsplit("-", 1)[0] for o in connecting} == {
        "open", "open-webui-migrate", "open-webui-db-bootstrap"}
    for workload in connecting:
        pod = workload.inputs["spec"]["template"]["spec"]
        volume = next(v["name"] for v in pod["volumes"]
                      if (v.get("configMap") or {}).get("name") == postgres_access.ROOTS_CONFIGMAP)
        mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] == volume]
        assert mounts and all(m["mountPath"] == posixpath.dirname(postgres_access.ROOTS_PATH) for m in mounts)
        assert plan.waits_for(workload, lambda dep: dep is roots)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_the_bootstrap_job_reads_the_administrators_url_and_the_migration_waits_for_it(stack):
    plan = variant(stack)
    admin_url = urlsplit(secret_value(plan, "postgres-admin-database-url"))
    server = next(r for r in plan.of_type("azure-native:dbforpostgresql:Server"))
    assert unquote(admin_url.username or "") == server.inputs["administratorLogin"]
    assert parse_qs(admin_url.query)["sslmode"] == ["verify-full"]
    jobs = {j.inputs["metadata"]["name"].rsplit("-", 1)[0]: j for j in plan.of_type(JOB)}
    bootstrap, migrate = jobs["open-webui-db-bootstrap"], jobs["open-webui-migrate"]
    classes = {c.inputs["metadata"]["name"]: c.inputs["spec"]["parameters"]["objects"] for c in plan.of_type(SPC)}
    readers = [name for name, objects in classes.items() if "objectName: postgres-admin-database-url" in objects]
    pod = bootstrap.inputs["spec"]["template"]["spec"]
    assert readers == [next(v["csi"]["volumeAttributes"]["secretProviderClass"] for v in pod["volumes"]
                            if v.get("csi"))]
    assert pod["serviceAccountName"] != migrate.inputs["spec"]["template"]["spec"]["serviceAccountName"]
    # the Job's identity is granted those two secrets and nothing else
    grants = [r.inputs["scope"].rsplit("/secrets/", 1)[-1] for r in plan.of_type(
        "azure-native:authorization:RoleAssignment") if "-webui-db-bootstrap-kv-" in r.name]
    assert sorted(grants) == ["postgres-admin-database-url", "postgres-database-url"]
    # Python and psycopg2 only: not root, nothing written
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    # the role exists before the schema migration runs as it, and the Job starts once the database exists
    assert plan.waits_for(migrate, lambda dep: dep is bootstrap)
    database = plan.one("azure-native:dbforpostgresql:Database")
    assert plan.waits_for(bootstrap, lambda dep: dep is database)
    assert bootstrap.options.get("customTimeouts", {}).get("create")  # awaited, with a deadline


def test_an_admin_login_that_is_the_applications_role_is_refused():
    problems = postgres_server({"admin_login": postgres_access.APP_LOGIN})
    assert any(p.path == "admin_login" and postgres_access.APP_LOGIN in p.allowed for p in problems)
