"""OpenWebUi: Open-WebUI on PostgreSQL/pgvector in front of any model endpoint (an OllamaServer's native API, or an
OpenAI-compatible one such as LlmdStack's gate, whose key it reads from Key Vault): workload identity and Key Vault
CSI secrets, a shared uploads volume, Valkey for multi-replica websockets, an HPA, the schema migration Job, and the
HTTPRoute on the platform Gateways' UI listener."""
from typing import Any, Callable, Mapping, NoReturn, Optional, TypedDict, cast
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from typing_extensions import NotRequired

from . import PACKAGE
from .checks import (DRAIN_FIELDS, ENDPOINT_FIELDS, NAMESPACE_FIELDS, after_check, called_as_documented, check_shape,
                     fail, fail_when_known, given_once_resolved, late_rules)
from .choices import UPLOADS_STORAGE_CLASSES
from .defaults import DEFAULTS, defaults_for
from .handles import (ClusterHandle, ModelEndpoint, RouteTarget, VaultHandle, field, known, order_of, ordered_after,
                      value_alone)
from .hardening import NON_ROOT_UID, container_security, pod_security, root_image, scanner_annotations, \
    scratch_volume, writable_root
from .inference_specs import (ADMIN_PASSWORD_FILE, ADMIN_PASSWORD_VAR, DATABASE_URL_FILE, HPA_SCALE_DOWN_WINDOW_SECONDS,
                              HPA_SYNC_SECONDS, MIGRATIONS_SWITCH, MODEL_KEY_FILE, MODEL_KEY_VAR, OLLAMA_PORT,
                              OPENAI_ROUTES_PREFIX, ROUTER_UI_PORT, SCALED_SERVICE, SECRETS_MOUNT, SESSION_KEY_FILE,
                              WEBUI_PORT, WEBUI_SECRET_FILES, drain_script, drain_seconds, exec_with_secret_files,
                              key_vault_objects, migrate_command, resources, scaled_host, secret_env_file,
                              stop_grace_seconds, webui_env, webui_state_env, webui_users_env)
from .keda_http import INTERCEPTOR_PORT
from .key_vault import grant_secrets_user, vault_secret
from .kube import (pulled, allow_ingress, cpu_placement, cpu_utilization_metric, csi_secrets_mount, csi_secrets_volume,
                   deployment, disruption_budget, env_vars, http_probe, labels, namespace_peer, placement_args,
                   require_kubernetes_provider, service_url, secret_provider_class, spread)
from .naming import content_suffix, secret_name
from .ollama_server import ResourcesSpec, _moved
from .open_webui_config import persistent_settings
from .pins import OPEN_WEBUI_IMAGE, VALKEY_IMAGE
from .postgres_access import (ADMIN_URL_FILE, APP_URL_FILE, ROOTS_CONFIGMAP, ROOTS_DIR, ROOTS_FILE, bootstrap_command,
                              root_certificates, webui_pool_overflow)
from .postgres_options import user_connections
from .rules import has_output
from .workload_identity import CLIENT_ID_ANNOTATION, USE_LABEL, WorkloadIdentity

opt = defaults_for("OpenWebUi")  # optional inputs: the caller's value, else the default

WEBUI_DATA_DIR = "/app/backend/data"  # the image's DATA_DIR, where it also bakes its model caches
# The models the endpoint serves, on the UI's pod template (`listed_models`): an Ollama UI keeps the model list each
# process fetched (inference_specs.BASE_MODELS_CACHE_SETTING), so a changed set restarts the pods to list it
MODELS_ANNOTATION = "llm-platform/listed-models"
# The database the UI's pods connect to (`database_name`), on their template: a new one restarts them onto it, after
# its bootstrap and migration Jobs (DATABASE_URL is read from the CSI mount at start)
DATABASE_ANNOTATION = "llm-platform/database"
APP_DATA_COPY = "/tmp/app-data"  # where the init container sees the data volume


class OpenWebUiArgs(TypedDict):
    """Inputs of OpenWebUi."""

    cluster: pulumi.Input[ClusterHandle]
    """The cluster (CPU pool, OIDC issuer for workload identity)."""
    key_vault: pulumi.Input[VaultHandle]
    """Vault holding the session key it writes, the database URL and the endpoint's API key."""
    endpoint: pulumi.Input[ModelEndpoint]
    """The model API it talks to (OllamaServer's `endpoint`, an ApiGate's or LlmdStack's `endpoint`, or their
    keyless `ui_endpoint`)."""
    database_url_secret: pulumi.Input[str]
    """Key Vault secret with the PostgreSQL URL (PostgresServer's `database_url_secret`). A URL that verifies the
    server with `sslrootcert` may name the Azure root CAs the UI's pods mount (postgres_access.ROOTS_PATH)."""
    admin_database_url_secret: NotRequired[Optional[pulumi.Input[str]]]
    """Key Vault secret with the server administrator's URL to the same database (PostgresServer's
    `admin_database_url_secret`): a Job signed in with it creates the role database_url_secret names, makes it the
    database's owner and creates pgvector, before the schema migration; only that Job's identity reads it (default
    none: the role exists already)."""
    database_name: NotRequired[Optional[pulumi.Input[str]]]
    """The database database_url_secret names (PostgresServer's `database`): the bootstrap and migration Jobs are
    named after it and the UI's pods carry it, so a new one (a new, empty database) runs both Jobs on it again before
    the pods restart onto it. PostgresServer's default, openwebui, names them as when it is left out (default none:
    nothing follows the database; a new one is left without the UI's role, pgvector and schema)."""
    database_sku_name: NotRequired[Optional[str]]
    """The PostgreSQL server's compute size (PostgresServer's `sku_name`, e.g. Standard_B1ms): the UI's most
    connections (three times max_replicas pods with full pools: the running ones while two replacements' pods, a
    rollout's, the autoscaler's or a node upgrade's, Terminating, still hold theirs; its Jobs, room for the
    administrator) must fit the connections that size admits,
    as Microsoft's table states them; where they fit with more, each engine's overflow grows, up to 10, so more
    requests at once find a connection (default none: not checked, the least pools; a size the table leaves out is
    not judged)."""
    namespace: NotRequired[Optional[pulumi.Input[str]]]
    """Namespace to run in (default: the endpoint's). In another, the endpoint's bare host is called qualified with
    the endpoint's namespace (`http://router.llm.svc:8080`), and a gate must admit this namespace (its
    `client_namespaces`)."""
    route_target: NotRequired[Optional[pulumi.Input[RouteTarget]]]
    """Gateways to publish the UI on, on their UI listener (GatewayAccess's `route_target`); none: in-cluster."""
    name_prefix: NotRequired[Optional[str]]
    """Start of Azure names (the identity id-<prefix>-open-webui; default: the name)."""
    replicas: NotRequired[Optional[int]]
    """Minimum replicas (default 1)."""
    max_replicas: NotRequired[Optional[int]]
    """Maximum replicas under the HPA (default 1: what the smallest server, Standard_B1ms, holds); above 1, replicas
    share state through Valkey (so do the uvicorn workers of a pod, UVICORN_WORKERS in extra_env above 1, with one
    replica)."""
    cpu_target_percent: NotRequired[Optional[int]]
    """The HPA's average CPU utilisation target, percent of the request (default 70)."""
    memory_target_percent: NotRequired[Optional[int]]
    """An HPA memory utilisation target too, percent of the request (default none)."""
    resources: NotRequired[Optional[ResourcesSpec]]
    """Requests and limits."""
    uploads_size_gib: NotRequired[Optional[int]]
    """Shared uploads volume, GiB (default 100; at least 100 on premium)."""
    uploads_tier: NotRequired[Optional[str]]
    """premium (Azure Files Premium, provisioned) or standard (Azure Files Standard, billed by use) (default
    premium)."""
    secret_key_secret: NotRequired[Optional[str]]
    """Key Vault secret name of the session key (default <name>-webui-secret-key)."""
    request_timeout_seconds: NotRequired[Optional[int]]
    """Longest answer the gateway waits for (default 600). It also sets how long a stopping pod waits for its answers
    in flight: the pods' grace is this + 30 s, and the HPA's scale-down window the grace + 15 s (at least 300 s, at
    most 3600 s), so a pod added for a peak stays that long after it."""
    model_access: NotRequired[Optional[str]]
    """all: every signed-in user lists and uses every model (BYPASS_MODEL_ACCESS_CONTROL); granted: Open-WebUI's
    access control, a model with no grant is listed to admins only until one grants it in Workspace > Models
    (default all)."""
    enable_signup: NotRequired[Optional[bool]]
    """Let anyone who reaches the UI create an account (ENABLE_SIGNUP; default False: the admin adds users). The
    first account is always possible and becomes admin (see admin_email). Kept in Open-WebUI's database while its
    persistent config is on (an Ollama endpoint): the migration Job writes it there when it changes here, and Admin
    Panel > Settings decides in between."""
    default_user_role: NotRequired[Optional[str]]
    """Role of a new account: pending (waits for an admin's approval) or user (DEFAULT_USER_ROLE; default pending).
    Written to the database when it changes here, like enable_signup."""
    admin_email: NotRequired[Optional[str]]
    """Create this admin at start while the UI has no account (WEBUI_ADMIN_EMAIL), with a generated password in Key
    Vault (<name>-webui-admin-password): nobody who reaches a fresh UI can sign up first and become admin (default
    none: the first to sign up is admin)."""
    extra_env: NotRequired[Optional[dict[str, str]]]
    """More Open-WebUI settings, plain values only (e.g. WEBUI_URL, ENABLE_LOGIN_FORM, ENABLE_OAUTH_SIGNUP,
    MICROSOFT_CLIENT_ID); the ones the component sets and names that look like secrets are refused (secret_env), and
    so are names Open-WebUI reads in place of one the component sets (DATABASE_HOST and the other DATABASE_ parts,
    OLLAMA_BASE_URLS, OPENAI_API_BASE_URLS, OPENAI_API_KEYS, the Sentinel hosts, PORT, HOST, UVICORN_UDS/FD/SSL_*;
    REDIS_CLUSTER and the like when 'true'), unless the value changes nothing ('false', empty, PORT 8080). The ones
    that say where the database's tables are (DATABASE_SCHEMA, libpq's PG* such as PGOPTIONS) reach the schema
    migration Job too, here or in secret_env, so it migrates the tables the UI reads. An Ollama UI's persistent
    settings given here (WEBUI_URL, ENABLE_LOGIN_FORM, ...: Open-WebUI 0.11.0's config.py) are written to its
    database by the migration Job when they change here (secret_env's never are)."""
    secret_env: NotRequired[Optional[dict[str, str]]]
    """Open-WebUI settings whose values are Key Vault secrets: variable -> secret name in key_vault (e.g.
    {"MICROSOFT_CLIENT_SECRET": "webui-entra-secret"}); exported at start from the CSI mount, never in the spec. The
    names extra_env refuses as read in place of the component's settings are refused here too."""
    client_namespaces: NotRequired[Optional[list[str]]]
    """Namespaces whose pods may open the UI (an ingress controller of your own); with route_target the Gateways'
    namespace may too. No other pod: unpublished and none named, the UI is reached by port-forward (default none)."""
    tags: NotRequired[Optional[Mapping[str, pulumi.Input[str]]]]
    """Azure tags."""


def scale_down_window_seconds(grace: int) -> int:
    """The UI's HPA scale-down window: past a pod's grace by a sync period, so the pods one scale-in stops are gone
    before the autoscaler, having scaled out since (which restarts the window), can scale in again
    (postgres_access.webui_pods); never below Kubernetes' default."""
    return max(HPA_SCALE_DOWN_WINDOW_SECONDS, grace + HPA_SYNC_SECONDS)


def endpoint_port(url: str) -> int:
    """The TCP port a UI's calls to the model endpoint at `url` go to (the scheme's own when the URL names none)."""
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def model_url(api: str, base_url: str) -> str:
    """The URL Open-WebUI is given: an Ollama server's root, an OpenAI-compatible server's /v1 base."""
    return base_url if api == "ollama" else base_url.rstrip("/") + OPENAI_ROUTES_PREFIX


def reached_from(base_url: str, endpoint_namespace: str, namespace: str) -> str:
    """`base_url` as a pod of `namespace` reaches it. A ModelEndpoint's host resolves in its `namespace`, and a pod
    resolves a bare name in its own (every pod's resolv.conf searches `<namespace>.svc.cluster.local` first:
    kubernetes/website dns-pod-service.md, "Namespaces of Services"): from another namespace a bare host is qualified
    with the endpoint's (`http://router:8080` -> `http://router.llm.svc:8080`, the gates' own URLs); a host with a
    dot, an address, `localhost` (the pod itself, no Service's name), or a pod of the endpoint's namespace, as
    given."""
    scheme, sep, rest = base_url.partition("://")
    authority, slash, path = rest.partition("/")
    host, colon, port = authority.partition(":")
    if namespace == endpoint_namespace or not sep or not host or "." in host or "@" in authority or "[" in host \
            or host.lower() == "localhost":
        return base_url
    return f"{scheme}://{host}.{endpoint_namespace}.svc{colon}{port}{slash}{path}"


def platform_ollama_urls(namespace: str) -> tuple[str, ...]:
    """Every Ollama address the platform hands an Open-WebUI in `namespace` (an InferenceStack's): Ollama's Service,
    the KEDA interceptor's alias (bare before it was namespaced, then namespaced), the gate's UI listener. The
    migration Job repoints a saved connection from any of them to the one handed out now (REPOINT_CODE)."""
    return (f"http://ollama:{OLLAMA_PORT}", f"http://{SCALED_SERVICE}:{INTERCEPTOR_PORT}",
            f"http://{scaled_host(namespace)}:{INTERCEPTOR_PORT}", f"http://router:{ROUTER_UI_PORT}")


# Where the migration Job's database work lands, read from the environment by Open-WebUI 0.11.0 and its drivers, and
# so handed to the Job from extra_env and secret_env whenever the UI is given them (docs/decisions.md, "2026-12-05: the
# migration Job reads the UI's schema settings"). Alembic's upgrade (migrations/env.py, every versions/*.py) qualifies
# no table: it writes into the first schema of the connection's search_path, which libpq sets from PGOPTIONS (and reads
# PGHOST, PGSSLMODE, PGTZ and the rest of its PG* variables for whatever DATABASE_URL leaves out): psycopg2 (the sync
# engine, Alembic's) and psycopg 3 (the async engine) both connect through libpq. DATABASE_SCHEMA qualifies every
# table of Open-WebUI's models (internal/db.py `MetaData(schema=DATABASE_SCHEMA)`): the Config rows the Job repoints
# (REPOINT_CODE, through models/config.py). Open-WebUI's own PG-named settings (PGVECTOR_*) are read by its vector
# store alone, never by the Job.
def reaches_migration(variable: str) -> bool:
    """Whether the migration Job must see `variable` as the UI does (a schema setting: DATABASE_SCHEMA, libpq's PG*)."""
    return variable == "DATABASE_SCHEMA" or (variable.startswith("PG") and not variable.startswith("PGVECTOR_"))


def migration_command(api: str, base_url: str, namespace: str, plain_env: Optional[dict[str, str]] = None,
                      given_url: Optional[str] = None) -> str:
    """The migration Job's command for a UI on `api` at `base_url`: an Ollama UI's saved connection follows the
    address handed out and its persistent settings follow its plain environment (`plain_env`: the users' settings and
    extra_env; persistent config keeps both in the database); an OpenAI one runs with persistent config off.
    `given_url`: the endpoint's URL as given, which a UI in another namespace saved before `reached_from` qualified
    it (a bare host that resolves nowhere there): repointed too."""
    url = model_url(api, base_url)
    if api != "ollama":
        return migrate_command()
    env = {**webui_env(api, url, WEBUI_DATA_DIR, MIGRATIONS_SWITCH, {}), **(plain_env or {})}
    given = (model_url(api, given_url),) if given_url else ()
    return migrate_command(url, (*platform_ollama_urls(namespace), *given), persistent_settings(env))


def database_marks(database: Optional[str]) -> list[str]:
    """What the UI's Jobs' names and pods' template take of the database they serve (`database_name`): nothing for
    none or PostgresServer's default, so a UI on that database keeps the names it had before it was given one; a new
    database (a new name) gives both Jobs new names, so both run again on it (a Job's pod template is immutable)."""
    return [f"database={database}"] if database and database != DEFAULTS["PostgresServer"]["database"] else []


def pod_annotations(models: Optional[str], database: Optional[str], client_id: Optional[str] = None
                    ) -> Optional[dict[str, str]]:
    """The UI's pod annotations: the models the endpoint serves (MODELS_ANNOTATION), the database
    (DATABASE_ANNOTATION, as database_marks takes it) and its identity's client id (CLIENT_ID_ANNOTATION); none
    without any."""
    notes = {**({MODELS_ANNOTATION: models} if models is not None else {}),
             **({DATABASE_ANNOTATION: database} if database_marks(database) and database else {}),
             **({CLIENT_ID_ANNOTATION: client_id} if client_id else {})}
    return notes or None


def start_command(command: str, key_secret: Optional[str], more: Optional[dict[str, str]] = None) -> str:
    """Export the secrets from the CSI mount, then exec `command`; `more`: variable -> mounted file name."""
    files = {var: f"{SECRETS_MOUNT}/{file}" for var, file in WEBUI_SECRET_FILES.items()}
    if key_secret:
        files[MODEL_KEY_VAR] = f"{SECRETS_MOUNT}/{MODEL_KEY_FILE}"
    files.update({var: f"{SECRETS_MOUNT}/{file}" for var, file in (more or {}).items()})
    return exec_with_secret_files(files, command)


def mounted_secrets(name: str, database_url: str, session_key: str, model_key: Optional[str],
                    admin_password: Optional[str], secret_env: dict[str, str],
                    refuse: Callable[[str, str, str, Any, str], NoReturn] = fail_when_known
                    ) -> tuple[list[str], dict[str, str]]:
    """The Key Vault secrets the UI `name` mounts and the file each is mounted as. A secret_env secret that is one of
    the component's own would need one object mounted twice: refused (by default as a LateInputError: the endpoint's
    key, or the database URL's secret, may be known only once an output resolves; OpenWebUi checks the names known
    when it is built with `checks.fail`, before it registers anything)."""
    files = {database_url: DATABASE_URL_FILE, session_key: SESSION_KEY_FILE,
             **({model_key: MODEL_KEY_FILE} if model_key else {}),
             **({admin_password: ADMIN_PASSWORD_FILE} if admin_password else {})}
    for var, secret in sorted(secret_env.items()):
        if secret in files:
            refuse("OpenWebUi", name, f"secret_env[{var!r}]", secret, "a Key Vault secret other than the ones the "
                   f"component mounts itself ({', '.join(sorted(files))})")
        files[secret] = secret_env_file(var)
    return list(files), files


def postgres_roots_volume() -> k8s.core.v1.VolumeArgs:
    """The Azure root CAs (the ConfigMap OpenWebUi writes), for a pod that connects to PostgreSQL."""
    return k8s.core.v1.VolumeArgs(name="postgres-roots", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
        name=ROOTS_CONFIGMAP))


def postgres_roots_mount() -> k8s.core.v1.VolumeMountArgs:
    """Where the URL's sslrootcert finds them (postgres_access.ROOTS_PATH)."""
    return k8s.core.v1.VolumeMountArgs(name="postgres-roots", mount_path=ROOTS_DIR, read_only=True)


def endpoint_key(endpoint: Any) -> pulumi.Input[str]:
    """The Key Vault secret of the endpoint's API key, which the UI mounts when there is one: "" for none (an Ollama
    server's endpoint has no such field, a gate without a key hands a plain ""), else the name or its output."""
    return endpoint.get("api_key_secret", "") if isinstance(endpoint, Mapping) else \
        field(endpoint, "api_key_secret", "")


@called_as_documented
class OpenWebUi(pulumi.ComponentResource):
    """Open-WebUI on PostgreSQL/pgvector in front of any Ollama or OpenAI-compatible endpoint, secrets from Key
    Vault, published on the platform Gateways' UI listener. The `protect` option protects the generated session key
    and first admin's password with their Key Vault secrets, and the uploads claim (the users' files: its share goes
    with it); the other Kubernetes objects, the identities and their grants stay replaceable."""

    webui_service: pulumi.Output[str]
    """In-cluster URL of Open-WebUI, `http://<service>.<namespace>.svc:<port>` (resolves from a pod of any namespace
    under dnsPolicy ClusterFirst)."""

    def __init__(self, name: str, args: OpenWebUiArgs, opts: Optional[pulumi.ResourceOptions] = None, *,
                 moved_from: Optional[pulumi.Resource] = None, listed_models: Optional[pulumi.Output[str]] = None):
        # `listed_models` (a Python keyword, as `moved_from`; InferenceStack hands its store's models once they are
        # pulled): the models the endpoint serves, on the pod template (MODELS_ANNOTATION), so a change restarts the
        # pods and each fetches anew the model list an Ollama UI keeps
        args = check_shape("OpenWebUi", name, args, OpenWebUiArgs)
        require_kubernetes_provider(opts, "OpenWebUi", name)
        key_secret = args.get("secret_key_secret") or secret_name(name, "webui-secret-key")
        admin_secret = secret_name(name, "webui-admin-password") if args.get("admin_email") else None
        model_key = known(args["endpoint"], "api_key_secret", "")
        if isinstance(args["database_url_secret"], str) and isinstance(model_key, str):  # known now: before any write
            mounted_secrets(name, args["database_url_secret"], key_secret, model_key or None, admin_secret,
                            opt(args, "secret_env"), refuse=fail)
        super().__init__(f"{PACKAGE}:index:OpenWebUi", name, None, opts)
        a = self._args = args
        self._moved_aliases = _moved(moved_from)
        # `protect` in opts reaches the generated secrets and the uploads claim alone (they inherit it, pulumi
        # resource.py "Infer protection from parent"): every other child, Kubernetes or Azure, stays replaceable
        self._held = pulumi.ResourceOptions(parent=self, aliases=self._moved_aliases)
        self._child = pulumi.ResourceOptions(parent=self, aliases=self._moved_aliases, protect=False)
        self._cpu = cpu_placement(a["cluster"])
        endpoint = a["endpoint"]
        # a namespace that arrives as an output is checked once it resolves, in this component's words, before the UI
        # (its workload identities too) runs there
        ns = self._ns = a.get("namespace") or after_check(
            late_rules("OpenWebUi", name, a, "endpoint", NAMESPACE_FIELDS, OpenWebUiArgs), field(endpoint, "namespace"))
        # the endpoint's URL as the UI's pods reach it (a gate's bare host qualified from another namespace)
        self._base_url = pulumi.Output.all(field(endpoint, "base_url"), field(endpoint, "namespace"), ns).apply(
            lambda v: reached_from(v[0], v[1], v[2]))
        vault = a["key_vault"]
        select = labels("ui", "open-webui")
        match = {"app.kubernetes.io/name": "open-webui"}
        replicas = opt(a, "replicas")
        res = opt(a, "resources")
        secret_key = random.RandomPassword(f"{name}-webui-secret-key", length=64, special=False, opts=self._held)
        written = {key_secret: vault_secret(f"{name}-webui-secret-key-secret", vault, key_secret, secret_key.result,
                                            "text/plain", self, aliases=self._moved_aliases)}
        if admin_secret:
            written[admin_secret] = self._admin(name, vault, admin_secret)
        secret_env = opt(a, "secret_env")
        exported = {**({ADMIN_PASSWORD_VAR: ADMIN_PASSWORD_FILE} if admin_secret else {}),
                    **{var: secret_env_file(var) for var in sorted(secret_env)}}
        identity = self._identity(name)
        model_key = field(endpoint, "api_key_secret", "")
        self._grants(name, identity, key_secret, admin_secret, secret_env, written)
        objects = pulumi.Output.all(a["database_url_secret"], model_key).apply(lambda v: key_vault_objects(
            *mounted_secrets(name, v[0], key_secret, v[1] or None, admin_secret, secret_env)))
        secrets = secret_provider_class(
            f"{name}-webui-secrets", "open-webui-secrets", ns, vault, identity.client_id, objects, self._child)
        uploads = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-webui-uploads",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="open-webui-data", namespace=ns),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name=UPLOADS_STORAGE_CLASSES[opt(a, "uploads_tier")],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": f"{opt(a, 'uploads_size_gib')}Gi"})),
            # the users' uploaded files: its share (reclaim policy Delete) goes with the claim
            opts=self._held)

        extra_env = opt(a, "extra_env")  # its rules refuse what the component sets and what looks like a secret
        # Each pod past the first, and each uvicorn worker past the first (start.sh hands UVICORN_WORKERS to
        # --workers; its rule takes 1 to 9999), is a process with its own Socket.IO server: without a shared manager
        # (Open-WebUI 0.11.0 socket/main.py, WEBSOCKET_MANAGER 'redis') an event another process emits never reaches
        # the socket a browser holds on this one.
        workers = int(extra_env.get("UVICORN_WORKERS", "1"))
        shared_state = self._state(name) if opt(a, "max_replicas") > 1 or workers > 1 else {}
        # the Azure root CAs every pod that connects to PostgreSQL verifies the server with (the URL's sslrootcert)
        roots = k8s.core.v1.ConfigMap(
            f"{name}-webui-postgres-roots",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ROOTS_CONFIGMAP, namespace=ns),
            data={ROOTS_FILE: root_certificates()}, opts=self._child)
        admin_url = a.get("admin_database_url_secret")
        # a schema of the UI's own is created by the bootstrap (postgres_access.SCHEMA_SCRIPT); one from Key Vault
        # (secret_env) is out of sight, the user's to create (docs/components/inference-stack.md)
        schema = extra_env.get("DATABASE_SCHEMA")
        bootstrapped = self._bootstrap(name, admin_url, roots, schema if schema not in ("", "public") else None) \
            if admin_url is not None else None
        users = webui_users_env(opt(a, "model_access"), opt(a, "enable_signup"), opt(a, "default_user_role"),
                                a.get("admin_email"))
        migrated = self._migration(name, identity, [secrets, roots, *([bootstrapped] if bootstrapped else [])],
                                   {var: value for var, value in extra_env.items() if reaches_migration(var)},
                                   {var: secret for var, secret in secret_env.items() if reaches_migration(var)},
                                   {**users, **extra_env})
        # (an endpoint that arrives as an output has its flavour checked once it resolves)
        api = after_check(late_rules("OpenWebUi", name, a, "endpoint", ENDPOINT_FIELDS, OpenWebUiArgs), field(endpoint, "api"))
        # the pools as large as the server's size leaves room for (postgres_access.webui_pool_overflow)
        sku = a.get("database_sku_name")
        overflow = webui_pool_overflow(user_connections(sku) if sku else None, opt(a, "max_replicas"), workers)
        env = pulumi.Output.all(api, self._base_url).apply(
            lambda v: env_vars({**webui_env(v[0], model_url(v[0], v[1]), WEBUI_DATA_DIR, MIGRATIONS_SWITCH,
                                            shared_state, overflow), **users, **extra_env}))
        command = model_key.apply(lambda k: start_command("bash start.sh", k, exported))
        # The endpoint's URL arrives carrying its gate's rollout (ApiGate: the router's Deployment, Service and
        # policies), its key's name the key's write: both in the order (depends_on), not on the pod template, or a
        # gate's object deleted first and created again under its name (the URL the same) replaced this Deployment
        # with it (pulumi/pulumi 1b5949891b step_generator.go calculateDependentReplacements; docs/decisions.md
        # "2026-12-05 (night): delete-first chains rescanned")
        # A UI chat runs as a task of the process, its tokens on the browser's websocket, both ended by uvicorn at
        # SIGTERM: the preStop hook first lets the answers in flight finish (while the pod has a connection open to
        # the model endpoint, at most the longest answer), the pod out of the Service's endpoints meanwhile, and the
        # grace covers the hook and uvicorn's shutdown (docs/decisions.md, "Open-WebUI's pods stop with their chats")
        drain = drain_seconds(opt(a, "request_timeout_seconds"))
        grace = stop_grace_seconds(drain)
        hook = self._base_url.apply(lambda url: drain_script(endpoint_port(url), drain, outbound=True))

        deployment(
            f"{name}-webui", "open-webui", ns, select, replicas,
            k8s.core.v1.PodSpecArgs(
                # the account's name alone, its gates in the order (WorkloadIdentity.service_account_name)
                service_account_name=value_alone(identity.service_account_name),
                automount_service_account_token=False,
                # Exception to non-root: the image writes under /app as root; every capability is dropped.
                security_context=pod_security(run_as_user=None),
                **placement_args(self._cpu),
                topology_spread_constraints=spread(match),
                # held to the cluster's drain, once a drain known only at deploy time resolves
                termination_grace_period_seconds=after_check(late_rules(
                    "OpenWebUi", name, a, "cluster", DRAIN_FIELDS, OpenWebUiArgs), grace),
                # The image bakes its embedding, whisper and tokenizer caches into DATA_DIR, which the volume
                # hides: copy them in first, never over what is there (upstream chart's copy-app-data)
                init_containers=[k8s.core.v1.ContainerArgs(
                    name="copy-app-data", image=pulled(self._args["cluster"], OPEN_WEBUI_IMAGE),
                    command=["sh", "-c", f"cp -R -n {WEBUI_DATA_DIR}/* {APP_DATA_COPY}/"],
                    resources=k8s.core.v1.ResourceRequirementsArgs(
                        requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "1", "memory": "256Mi"}),
                    security_context=container_security(run_as_user=None),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path=APP_DATA_COPY)])],
                containers=[k8s.core.v1.ContainerArgs(
                    name="open-webui", image=pulled(self._args["cluster"], OPEN_WEBUI_IMAGE),
                    working_dir="/app/backend",  # the image's own WORKDIR and CMD (bash start.sh)
                    command=["/bin/sh", "-c", value_alone(command)],
                    lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        exec_=k8s.core.v1.ExecActionArgs(command=["/bin/sh", "-c", value_alone(hook)]))),
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=WEBUI_PORT)],
                    env=value_alone(env),
                    resources=k8s.core.v1.ResourceRequirementsArgs(**resources(
                        res["cpu_request"], res.get("cpu_limit"), res["memory_request"], res["memory_limit"])),
                    startup_probe=http_probe("/health", WEBUI_PORT, period=10, failures=30),
                    readiness_probe=http_probe("/health", WEBUI_PORT, period=10, failures=3),
                    liveness_probe=http_probe("/health", WEBUI_PORT, period=20, failures=3),
                    security_context=container_security(run_as_user=None, read_only_root=False),
                    volume_mounts=[
                        k8s.core.v1.VolumeMountArgs(name="data", mount_path=WEBUI_DATA_DIR),
                        csi_secrets_mount(), postgres_roots_mount()],
                )],
                volumes=[k8s.core.v1.VolumeArgs(
                    name="data", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=uploads.metadata.name)), csi_secrets_volume("open-webui-secrets"),
                    postgres_roots_volume()],
            ),
            # the HPA owns the replica count; pods start on the schema the migration Job left
            # listed_models waits for the store's preload Job: in the order, not on the pod template, or a new Job
            # (a model added, deleted first) replaced this Deployment with it (docs/decisions.md "2026-12-05
            # (evening): the unknown is no null")
            ordered_after(pulumi.ResourceOptions(parent=self, aliases=self._moved_aliases, protect=False,
                                                 ignore_changes=["spec.replicas"], depends_on=[migrated]),
                          env, command, *([listed_models] if listed_models is not None else []),
                          *([a["database_name"]] if a.get("database_name") is not None else []), self._cpu,
                          identity.service_account_name),
            pod_labels={USE_LABEL: "true"},
            # a new database restarts the pods onto it (DATABASE_ANNOTATION), after both Jobs ran on it (depends_on); a
            # replaced identity onto its client id (CLIENT_ID_ANNOTATION)
            pod_annotations=self._pod_annotations(listed_models, identity),
            annotations=scanner_annotations([OPEN_WEBUI_IMAGE], [
                *root_image("the upstream image is built for uid 0 (it owns /app and /root); a non-root run needs an "
                            "image rebuilt with its UID build argument"),
                *writable_root("start.sh and the server write under /app/backend (server.log, static assets, "
                               "caches)")]))
        service = k8s.core.v1.Service(
            f"{name}-webui-svc",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="open-webui", namespace=ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
                k8s.core.v1.ServicePortArgs(name="http", port=WEBUI_PORT, target_port=WEBUI_PORT, protocol="TCP")]),
            opts=self._child)
        disruption_budget(f"{name}-webui-pdb", "open-webui", ns, match, self._child)
        metrics = [cpu_utilization_metric(opt(a, "cpu_target_percent"))]
        if a.get("memory_target_percent") is not None:
            metrics.append(k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource", resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name="memory", target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=a["memory_target_percent"]))))
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-webui-hpa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="open-webui", namespace=ns),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name="open-webui"),
                min_replicas=replicas, max_replicas=opt(a, "max_replicas"), metrics=metrics,
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=scale_down_window_seconds(grace)))),
            opts=self._child)
        target = a.get("route_target")
        # no caller in its own namespace; unpublished and none named, no pod at all (a port-forward is no pod's traffic)
        peers = [*([namespace_peer(field(target, "namespace"))] if target else []),
                 *(namespace_peer(n) for n in a.get("client_namespaces") or [])]
        allow_ingress(f"{name}-webui-netpol", "open-webui-ingress", ns, match, WEBUI_PORT, peers, self._child)
        if target:
            self._route(name, target)
        self.webui_service = service_url(service.metadata.name, ns, WEBUI_PORT)
        self.register_outputs({"webui_service": self.webui_service})

    def _identity(self, name: str) -> WorkloadIdentity:
        a = self._args
        identity = WorkloadIdentity(f"{name}-open-webui-identity", {
            "cluster": a["cluster"], "identity_name": f"id-{a.get('name_prefix', name)}-open-webui",
            "namespace": self._ns, "service_account_name": "open-webui", "tags": a.get("tags", {}),
        }, self._child)
        return identity

    def _grants(self, name: str, identity: WorkloadIdentity, key_secret: str, admin_secret: Optional[str],
                secret_env: dict[str, str], written: dict[str, pulumi.Resource]) -> None:
        """"Key Vault Secrets User" on each secret the UI mounts (mounted_secrets) and on nothing else: not the vault,
        whose PostgreSQL admin password, API key maps and later secrets the UI has no business reading. A secret this
        component writes is granted after its write (the scope must exist); the database URL and the endpoint's key
        carry their writers in their outputs (PostgresServer, the gates)."""
        a = self._args
        reads: list[tuple[str, pulumi.Input[str]]] = [("database-url", a["database_url_secret"]),
                                                      ("session-key", key_secret)]
        if admin_secret:
            reads.append(("admin-password", admin_secret))
        reads += [(f"env-{var.lower().replace('_', '-')}", secret) for var, secret in sorted(secret_env.items())]
        def grant(role: str, secret: pulumi.Input[str]) -> pulumi.Resource:
            after = [written[secret]] if isinstance(secret, str) and secret in written else None
            return grant_secrets_user(f"{name}-open-webui-kv-{role}", a["key_vault"], identity.principal_id,
                                      identity, secret, after)
        for role, secret in reads:
            grant(role, secret)
        # Whether the endpoint has a key is known now from a plain handle: a plain name, or an output of one (a
        # gate's, which resolves once its write is done; a gate without a key hands a plain ""), granted now and
        # refused if it resolves empty. From a handle that is one output (another program or language hands it
        # over) only once it resolves: the grant is made then, on the output itself, so it still waits for the
        # key's write (a preview that cannot resolve it does not show this grant), and the identity holds the
        # account's name until it is made, so the UI's pods and its migration's wait for it too.
        model_key = endpoint_key(a["endpoint"])
        if not has_output(model_key):
            if model_key:
                grant("model-key", model_key)
        elif isinstance(a["endpoint"], Mapping):
            grant("model-key", given_once_resolved(f"OpenWebUi {name}", "endpoint.api_key_secret",
                                                   pulumi.Output.from_input(model_key),
                                                   "a Key Vault secret name, or leave it out"))
        else:
            identity.once_resolved(model_key, lambda key: grant("model-key", model_key) if key else None)

    def _admin(self, name: str, vault: Any, secret: str) -> pulumi.Resource:
        """The first admin's generated password, in Key Vault as `secret`: the operator reads it there to sign in."""
        password = random.RandomPassword(f"{name}-webui-admin-password", length=32, special=False, opts=self._held)
        return vault_secret(f"{name}-webui-admin-password-secret", vault, secret, password.result, "text/plain", self,
                            aliases=self._moved_aliases)

    def _route(self, name: str, target: Any) -> None:
        timeout = f"{opt(self._args, 'request_timeout_seconds')}s"
        gateways = after_check(late_rules("OpenWebUi", name, self._args, "route_target",
                                          ("gateway_names", "ui_listener"), OpenWebUiArgs),
                               field(target, "gateway_names"))
        parents = pulumi.Output.all(gateways, field(target, "namespace"), field(target, "ui_listener")).apply(
            lambda v: [{"name": gw, "namespace": v[1], "sectionName": v[2]} for gw in v[0]])
        k8s.apiextensions.CustomResource(
            f"{name}-ui-route", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="ui-route", namespace=self._ns),
            spec={"parentRefs": parents,
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                             "backendRefs": [{"name": "open-webui", "port": WEBUI_PORT}],
                             # streamed LLM answers run for minutes: never cut them at the gateway
                             "timeouts": {"request": timeout, "backendRequest": timeout}}]},
            opts=self._child)

    def _bootstrap(self, name: str, admin_url_secret: pulumi.Input[str], roots: k8s.core.v1.ConfigMap,
                   schema: Optional[str]) -> k8s.batch.v1.Job:
        """The UI's own PostgreSQL role, made by a Job signed in as the server's administrator (postgres_access
        .BOOTSTRAP_SCRIPT, idempotent). It runs under an identity of its own, granted the administrator's URL and
        the UI's URL and nothing else, so no Open-WebUI pod can read the administrator's password. One Job per image,
        script and database (database_marks: a new database runs it again); the migration waits for it. With
        `schema` (extra_env's DATABASE_SCHEMA) it also creates that schema, owned by the UI's role, where the
        migrations then write."""
        a = self._args
        identity = WorkloadIdentity(f"{name}-webui-db-bootstrap-identity", {
            "cluster": a["cluster"], "identity_name": f"id-{a.get('name_prefix', name)}-webui-db-bootstrap",
            "namespace": self._ns, "service_account_name": "open-webui-db-bootstrap", "tags": a.get("tags", {}),
        }, self._child)
        # The administrator's URL arrives carrying the database's create (PostgresServer: the bootstrap connects to
        # it), which the grant's scope (force-new) must not hold: a database deleted first and created again (a new
        # name) would replace the grant with it (pulumi/pulumi 1b5949891b step_generator.go
        # calculateDependentReplacements). The scope takes the name alone; the grant waits as before (depends_on).
        grants = [grant_secrets_user(f"{name}-webui-db-bootstrap-kv-admin-url", a["key_vault"], identity.principal_id,
                                     identity, value_alone(admin_url_secret), [order_of(admin_url_secret)]),
                  grant_secrets_user(f"{name}-webui-db-bootstrap-kv-database-url", a["key_vault"],
                                     identity.principal_id, identity, a["database_url_secret"])]
        objects = pulumi.Output.all(admin_url_secret, a["database_url_secret"]).apply(lambda v: key_vault_objects(
            [v[0], v[1]], {v[0]: ADMIN_URL_FILE, v[1]: APP_URL_FILE}))
        secrets = secret_provider_class(
            f"{name}-webui-db-bootstrap-secrets", "open-webui-db-bootstrap-secrets", self._ns, a["key_vault"],
            identity.client_id, objects, self._child)
        command = bootstrap_command(SECRETS_MOUNT, schema)
        return self._job(
            f"{name}-webui-db-bootstrap", self._after_database(lambda database: "open-webui-db-bootstrap-" + (
                content_suffix(OPEN_WEBUI_IMAGE, *command, *database_marks(database)))),
            labels("ui-db-bootstrap", "open-webui-db-bootstrap"), identity, NON_ROOT_UID,  # Python only: no root
            k8s.core.v1.ContainerArgs(
                name="bootstrap", image=pulled(a["cluster"], OPEN_WEBUI_IMAGE), command=command,
                env=env_vars({"HOME": "/tmp"}),
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "256Mi"}),
                security_context=container_security()),
            "open-webui-db-bootstrap-secrets", 1200, [secrets, roots, *grants, *self._database_order()], [])

    def _after_database(self, named: Callable[[Optional[str]], str]) -> pulumi.Input[str]:
        """`named` of the database the UI is given (database_name), once it resolves; of none when it is not given.
        The name alone, without the resources a handle's output carries (their order is the Jobs' depends_on)."""
        database = self._args.get("database_name")
        return named(None) if database is None else value_alone(database).apply(named)

    def _pod_annotations(self, listed_models: Optional[pulumi.Output[str]], identity: WorkloadIdentity
                         ) -> pulumi.Input[Mapping[str, pulumi.Input[str]]]:
        """The pods' annotations (`pod_annotations`), their values alone: a map of outputs without a database. The
        identity's client id: the UI's process signs in as it through the webhook's AZURE_CLIENT_ID, which a running
        pod keeps (an Azure OpenAI connection with Microsoft Entra ID auth), so a replaced identity rolls the pods."""
        models = value_alone(listed_models) if listed_models is not None else None
        client_id = value_alone(identity.client_id)
        database = self._args.get("database_name")
        if database is None:
            return {**({MODELS_ANNOTATION: models} if models is not None else {}), CLIENT_ID_ANNOTATION: client_id}
        return cast(pulumi.Output[Mapping[str, str]], pulumi.Output.all(models, value_alone(database), client_id).apply(
            lambda v: pod_annotations(v[0], v[1], v[2])))

    def _database_order(self) -> list[pulumi.Input[pulumi.Resource]]:
        """A depends_on item for whatever the database_name given carries (a handle's output: its database)."""
        database = self._args.get("database_name")
        return [] if database is None else [order_of(database)]

    def _job(self, resource_name: str, job_name: pulumi.Input[str], select: dict[str, str], identity: WorkloadIdentity,
             run_as_user: Optional[int], container: k8s.core.v1.ContainerArgs, secrets_class: str,
             deadline_seconds: int, after: list[pulumi.Input[pulumi.Resource]],
             exceptions: list[tuple[str, str]]) -> k8s.batch.v1.Job:
        """A Job of the UI's image that connects to PostgreSQL: its identity's Key Vault secrets, the root CAs and a
        scratch /tmp mounted, retried (10 s doubling to 5 min) while the database or the grants are not there yet,
        awaited by Pulumi within its deadline. A new name (content) is a new Job: a Job's pod template is immutable."""
        container.volume_mounts = [csi_secrets_mount(), postgres_roots_mount(),
                                   k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        timeout = f"{deadline_seconds // 60}m"
        return k8s.batch.v1.Job(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=job_name, namespace=self._ns, labels=select,
                # a Job that failed (the database or its grants late past every retry) is run again by the next
                # `pulumi up` rather than awaited again (pulumi-kubernetes provider.go Diff); both Jobs are idempotent
                annotations={**scanner_annotations([OPEN_WEBUI_IMAGE], exceptions or None),
                             "pulumi.com/replaceUnready": "true"}),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6, active_deadline_seconds=deadline_seconds,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**select, USE_LABEL: "true"}),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        service_account_name=value_alone(identity.service_account_name),  # its gates: the order
                        automount_service_account_token=False,
                        security_context=pod_security(run_as_user=run_as_user),
                        **placement_args(self._cpu),
                        containers=[container],
                        volumes=[csi_secrets_volume(secrets_class), postgres_roots_volume(), scratch_volume()]))),
            opts=ordered_after(pulumi.ResourceOptions(parent=self, aliases=self._moved_aliases, protect=False,
                                                      delete_before_replace=True, depends_on=after,
                                                      custom_timeouts=pulumi.CustomTimeouts(create=timeout,
                                                                                            update=timeout)),
                               self._cpu, identity.service_account_name))

    def _migration(self, name: str, identity: WorkloadIdentity, after: list[pulumi.Resource], plain: dict[str, str],
                   secret: dict[str, str], settings_env: dict[str, str]) -> k8s.batch.v1.Job:
        """Every Open-WebUI process upgrades the schema at start unless told not to, so replicas starting together race
        on one database. One Job per image version and database (database_marks) migrates (after the role's bootstrap,
        when there is one); the Deployment waits for it and its replicas run with migrations off. An Ollama UI's saved
        connection is repointed there too (migration_command). The UI's schema settings (reaches_migration) reach the
        Job as they reach the UI: `plain` (extra_env's) as env, `secret` (secret_env's: variable -> Key Vault secret)
        exported from the same CSI mount; each is part of the Job's name, so a changed one migrates again in a new Job
        (a `secret` one by its secret's name: a value rotated under the same name runs no new Job, inference-stack.md).
        `settings_env`, the UI's plain settings (never secret_env's), sets an Ollama UI's persistent settings
        (migration_command): in the command, so a changed one runs a new Job."""
        endpoint = self._args["endpoint"]
        exported = {var: secret_env_file(var) for var in sorted(secret)}
        # none given, the name is the image's and the command's alone, as before these were handed over
        settings = [*(f"{var}={value}" for var, value in sorted(plain.items())),
                    *(f"{var}<{held}" for var, held in sorted(secret.items()))]
        # after the endpoint's Service (a gate's UI listener) is there: the running UI reads the repointed address
        # the Service's wait in the order alone: its name and command hold the value, so a gate's object deleted
        # first and created again under its name does not replace this Job (as for the UI's Deployment)
        waits_for = pulumi.Output.all(field(endpoint, "api"), self._base_url, self._ns,
                                      field(endpoint, "service"), field(endpoint, "base_url")).apply(
            lambda v: migration_command(v[0], v[1], v[2], settings_env, v[4]))
        migrate = value_alone(waits_for)
        ordered: list[pulumi.Input[pulumi.Resource]] = [*after, order_of(waits_for), *self._database_order()]
        database = self._args.get("database_name")
        return self._job(
            f"{name}-webui-migrate",
            pulumi.Output.all(migrate, value_alone(database)).apply(lambda v: "open-webui-migrate-" + content_suffix(
                OPEN_WEBUI_IMAGE, v[0], *settings, *database_marks(v[1]))),
            labels("ui-migration", "open-webui-migrate"), identity, None,
            k8s.core.v1.ContainerArgs(
                name="migrate", image=pulled(self._args["cluster"], OPEN_WEBUI_IMAGE), working_dir="/app/backend",
                command=["/bin/sh", "-c", migrate.apply(lambda command: start_command(command, None, exported))],
                env=env_vars({**plain, MIGRATIONS_SWITCH: "true", "HOME": "/tmp"}),
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests={"cpu": "100m", "memory": "512Mi"}, limits={"cpu": "1", "memory": "1Gi"}),
                security_context=container_security(run_as_user=None)),
            "open-webui-secrets", 1800, ordered,
            root_image("the upstream image is built for uid 0 (it owns /app and /root)"))

    def _state(self, name: str) -> dict[str, str]:
        """Open-WebUI replicas share websocket sessions and app state through Redis; without it, a user's socket on
        one replica misses events from another. An in-memory Valkey reachable only from Open-WebUI pods."""
        ns = self._ns
        select = labels("ui-state", "webui-redis")
        match = {"app.kubernetes.io/name": "webui-redis"}
        deployment(
            f"{name}-webui-redis", "webui-redis", ns, select, 1,
            k8s.core.v1.PodSpecArgs(
                automount_service_account_token=False,
                security_context=pod_security(),
                **placement_args(self._cpu),
                containers=[k8s.core.v1.ContainerArgs(
                    name="valkey", image=pulled(self._args["cluster"], VALKEY_IMAGE),
                    # nothing to persist (sessions are ephemeral); the NetworkPolicy is the access control
                    args=["valkey-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                    ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=6379)],
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "50m", "memory": "64Mi"},
                                                                   limits={"cpu": "500m", "memory": "256Mi"}),
                    readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=6379),
                                                          period_seconds=10),
                    liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=6379),
                                                         period_seconds=20, failure_threshold=3),
                    # the image's entrypoint drops to its own user only when started as root; as any other uid
                    # it runs Valkey directly, writing only /data
                    security_context=container_security(),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data")])],
                volumes=[scratch_volume("data")]),
            ordered_after(self._child, self._cpu), annotations=scanner_annotations([VALKEY_IMAGE]))
        k8s.core.v1.Service(
            f"{name}-webui-redis-svc", metadata=k8s.meta.v1.ObjectMetaArgs(name="webui-redis", namespace=ns),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=match, ports=[
                k8s.core.v1.ServicePortArgs(name="redis", port=6379, target_port=6379, protocol="TCP")]),
            opts=self._child)
        disruption_budget(f"{name}-webui-redis-pdb", "webui-redis", ns, match, self._child)
        allow_ingress(f"{name}-webui-redis-netpol", "webui-redis-ingress", ns, match, 6379,
                      [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(
                          match_labels={"app.kubernetes.io/name": "open-webui"}))], self._child)
        return webui_state_env("redis://webui-redis:6379/0")
