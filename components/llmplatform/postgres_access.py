"""How a workload reaches the platform's PostgreSQL server: the connection URLs PostgresServer writes into Key Vault
(TLS verified against Azure's root CAs, a file every client pod mounts), the application's own role, the bootstrap
that creates it, and the connections Open-WebUI may hold (its pools' budget). Pure (no Pulumi import):
PostgresServer, OpenWebUi, their rules and their unit tests read it."""
import functools
from importlib import resources
from typing import Optional
from urllib.parse import quote

# Where a client pod mounts the root CAs (a ConfigMap of root_certificates()), named by the URL's sslrootcert. The
# image's own libpq wheels cannot be asked for the OS store instead (sslrootcert=system): psycopg2-binary 2.9.12
# and psycopg-binary 3.3.4 bundle their own OpenSSL, whose OPENSSLDIR is their build directory
# (/host/tmp/libpq.build), not the image's /etc/ssl (see docs/decisions.md).
ROOTS_DIR = "/etc/llmplatform/postgres-roots"
ROOTS_FILE = "azure-postgres-roots.pem"
ROOTS_PATH = f"{ROOTS_DIR}/{ROOTS_FILE}"
ROOTS_CONFIGMAP = "postgres-root-cas"

# The application's role: it owns the application database and nothing else (the administrator keeps the server).
APP_LOGIN = "openwebui_app"
# The files a bootstrap pod reads the two URLs from (CSI objectAlias).
ADMIN_URL_FILE, APP_URL_FILE = "admin-database-url", "database-url"


@functools.lru_cache(maxsize=None)
def root_certificates() -> str:
    """The PEM bundle of the root CAs Azure Database for PostgreSQL chains to (data/azure_postgres_roots.pem, its
    sources in its header)."""
    return resources.files(__package__).joinpath("data", "azure_postgres_roots.pem").read_text(encoding="ascii")


def database_url(login: str, password: str, host: str, database: str) -> str:
    """libpq URL that verifies the server: its certificate must chain to a root in ROOTS_PATH and name `host`
    (sslmode=verify-full); the password is percent-encoded."""
    return (f"postgresql://{quote(login, safe='')}:{quote(password, safe='')}@{host}:5432/{quote(database, safe='')}"
            f"?sslmode=verify-full&sslrootcert={ROOTS_PATH}")


# Run as the server's administrator (the Open-WebUI image's Python and psycopg2; the two URLs from the CSI mount),
# idempotent: the application role exists, logs in with the password its URL carries (sent as a SCRAM verifier,
# so no log line holds the password), has no server-wide power, owns the database (and what an earlier release made
# there as the administrator); pgvector is created here because `vector` is not a trusted extension and Azure lets
# only azure_pg_admin members create an untrusted one.
BOOTSTRAP_SCRIPT = """\
import sys
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

def read(name):
    with open(f"{secrets}/{name}", encoding="utf-8") as f:
        return f.read().strip()

secrets = sys.argv[1]
app = urlsplit(read(sys.argv[3]))
login, password, database = unquote(app.username), unquote(app.password), unquote(app.path.lstrip("/"))
conn = psycopg2.connect(read(sys.argv[2]))
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT current_user, current_database()")
admin, connected = cur.fetchone()
if login == admin or connected != database:
    sys.exit(f"the application URL names role {login!r} on {database!r}; the administrator {admin!r} is on "
             f"{connected!r}: two roles on one database expected")
role, owner = sql.Identifier(login), sql.Identifier(admin)
cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))
if cur.fetchone() is None:
    cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
verifier = encrypt_password(password, login, conn, "scram-sha-256")
cur.execute(sql.SQL("ALTER ROLE {} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD {}").format(
    role, sql.Literal(verifier)))
cur.execute(sql.SQL("GRANT {} TO {}").format(role, owner))
cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), role))
cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
cur.execute(\"\"\"
SELECT format('ALTER %%s %%s OWNER TO %%I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
              WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, c.oid::regclass, %s)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('e', 'a', 'i'))
UNION ALL
SELECT format('ALTER TYPE %%s OWNER TO %%I', t.oid::regtype, %s)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
  AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                  AND d.deptype = 'e')
\"\"\", (login, login))
for (statement,) in cur.fetchall():
    cur.execute(statement)
print(f"role {login} owns database {database}; vector extension present")
"""


# Appended only for a UI given a schema of its own (its extra_env's DATABASE_SCHEMA): Open-WebUI's migrations write
# into the search_path's first existing schema and PostgreSQL skips one that is not there, so the tables would land in
# public while the UI queries the schema. The administrator is a member of the application role (GRANT above), so it
# may create a schema in the role's database owned by that role. A stack without a schema keeps the script, and so the
# Job's name, it had.
SCHEMA_SCRIPT = """\
schema = sys.argv[4]
cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(sql.Identifier(schema), role))
print(f"schema {schema} present")
"""


def bootstrap_command(secrets_dir: str, schema: Optional[str] = None) -> list[str]:
    """The bootstrap container's command: Python runs the script ($0, never shell text), the CSI mount and the two
    URL files its arguments; with `schema` (the UI's DATABASE_SCHEMA) it also creates that schema, owned by the
    application role (SCHEMA_SCRIPT), the name an argument, never script text."""
    if not schema:
        return ["/bin/sh", "-c", 'exec python -c "$0" "$@"', BOOTSTRAP_SCRIPT, secrets_dir, ADMIN_URL_FILE,
                APP_URL_FILE]
    return ["/bin/sh", "-c", 'exec python -c "$0" "$@"', BOOTSTRAP_SCRIPT + SCHEMA_SCRIPT, secrets_dir,
            ADMIN_URL_FILE, APP_URL_FILE, schema]


# How a libpq client's PGOPTIONS sets the search_path, and the schema it names first, as the server reads them: the
# stack file's advisory on a UI schema (config/advisories.py) judges where Open-WebUI's migrations write.
def _options_words(options: str) -> list[str]:
    """PGOPTIONS as the server splits it (PostgreSQL 17, src/backend/utils/init/postinit.c `pg_split_opts`): at
    whitespace, a backslash taking the next character as it is."""
    words, word, escaped, started = [], [], False, False
    for c in options:
        if escaped:
            word.append(c)
            escaped = False
        elif c == "\\":
            escaped = started = True
        elif c.isspace():
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(c)
            started = True
    return words + (["".join(word)] if started else [])


def pgoptions_search_path(options: str) -> Optional[str]:
    """The search_path PGOPTIONS sets, the last one given (later settings win), or None: `-c name=value`,
    `-cname=value` and `--name=value`, the name in any case and with '-' for '_' (PostgreSQL 17, src/backend/tcop/
    postgres.c `process_postgres_switches`, src/backend/utils/misc/guc.c `ParseLongOption`, `guc_name_compare`)."""
    words, found = _options_words(options), None
    for i, word in enumerate(words):
        setting = (words[i + 1] if i + 1 < len(words) else "") if word == "-c" else \
            word[2:] if word.startswith(("--", "-c")) else ""
        name, equals, value = setting.partition("=")
        if equals and name.replace("-", "_").lower() == "search_path":
            found = value
    return found


def first_schema(search_path: str) -> str:
    """The schema a search_path names first, as PostgreSQL reads it: quoted as written ("" for "), unquoted folded to
    lower case (src/backend/utils/adt/varlena.c `SplitIdentifierString`); the role's own `$user` skipped, as the
    schema of that name, which nothing here creates, is; "" for none."""
    rest = search_path.strip()
    while rest:
        if rest.startswith('"'):
            end = rest.find('"', 1)
            while end != -1 and rest[end + 1:end + 2] == '"':
                end = rest.find('"', end + 2)
            name = rest[1:end if end != -1 else len(rest)].replace('""', '"')
            rest = rest[end + 1:] if end != -1 else ""
        else:
            name, _, _ = rest.partition(",")
            rest = rest[len(name):]
            name = name.strip().lower()
        rest = rest.strip().removeprefix(",").strip()
        if name and name != "$user":
            return name
    return ""


# Open-WebUI 0.11.0 opens three SQLAlchemy engines to its database in every server process (uvicorn worker): a sync
# engine (startup, config, health checks) and an async one (every request), both sized by DATABASE_POOL_*
# (backend/open_webui/env.py 302-324; internal/db.py 315-329 and 388-408), and pgvector's, sized by PGVECTOR_POOL_*,
# on PGVECTOR_DB_URL, which defaults to DATABASE_URL (config.py 638 and 662-698; retrieval/vector/dbs/pgvector.py
# 94-108). Left unset, each is SQLAlchemy's QueuePool default, 5 kept + 10 overflow: 45 connections a pod. A size of
# 0 would be NullPool, a connection per checkout with no bound at all. The pods' budget, set explicitly: the async
# engine's pool is the one requests wait on (DATABASE_POOL_TIMEOUT s, then an error) for their short queries (the chat
# route takes no request-long session: main.py 1052-1058 `chat_completion`), pgvector's serves retrieval's. One
# overflow: 3 async connections a process, as one request may hold two at once (session sharing off: env.py 363,
# internal/db.py `get_async_db_context`; models/models.py `get_all_models` keeps its connection while
# access_grants.py `get_grants_by_resources` opens another, and so the tools, prompts and knowledge lists): with 2,
# two such requests at once (a page load's tools and models lists) each hold one and wait for the other's, both
# failing at the timeout. Timeout and recycle are upstream's defaults, written out so the budget reads whole here.
# The overflow is the floor: on a server with room, webui_pool_overflow gives more.
WEBUI_POOL_ENV = {"DATABASE_POOL_SIZE": 2, "DATABASE_POOL_MAX_OVERFLOW": 1, "DATABASE_POOL_TIMEOUT": 30,
                  "DATABASE_POOL_RECYCLE": 3600, "PGVECTOR_POOL_SIZE": 1, "PGVECTOR_POOL_MAX_OVERFLOW": 0,
                  "PGVECTOR_POOL_TIMEOUT": 30, "PGVECTOR_POOL_RECYCLE": 3600}
WEBUI_ENGINES = (("the sync engine", "DATABASE_POOL"), ("the async engine", "DATABASE_POOL"),
                 ("pgvector's", "PGVECTOR_POOL"))
# The two Jobs of OpenWebUi that connect, one connection each: the role bootstrap (BOOTSTRAP_SCRIPT's one connect)
# and the schema migration (Alembic with NullPool, one connection: migrations/env.py). And room for the
# administrator's own sessions (psql, pg_dump) beside the UI: the server's reserved slots are Azure's.
JOB_CONNECTIONS = 2
ADMIN_CONNECTIONS = 3


LEAST_POOL_OVERFLOW = WEBUI_POOL_ENV["DATABASE_POOL_MAX_OVERFLOW"]
# Requests that each hold a connection while asking for a second stall a process once as many run at once as its
# async pool and overflow hold together: each holds one and waits until DATABASE_POOL_TIMEOUT (SQLAlchemy 2.0.50's
# async engine, reproduced: 2 + 1 serves two at once and fails three, two page loads' four fail three; 2 + 10 serves
# eleven). An overflow connection is opened at checkout and closed when returned to a full pool (pool/impl.py
# QueuePool._do_return_conn), so more overflow costs the server nothing at rest: where the server admits the worst
# case with more (database_sku_name), the pods get up to SQLAlchemy's own default, 10.
MOST_POOL_OVERFLOW = 10


def pool_settings(overflow: int = LEAST_POOL_OVERFLOW) -> dict[str, int]:
    """Open-WebUI's pool settings with DATABASE_POOL_MAX_OVERFLOW `overflow` (webui_pool_overflow)."""
    return {**WEBUI_POOL_ENV, "DATABASE_POOL_MAX_OVERFLOW": overflow}


def webui_pool_env(overflow: int = LEAST_POOL_OVERFLOW) -> dict[str, str]:
    """Open-WebUI's pool settings, as its environment."""
    return {name: str(value) for name, value in pool_settings(overflow).items()}


def connections_per_pod(workers: int = 1, overflow: int = LEAST_POOL_OVERFLOW) -> int:
    """The most connections one Open-WebUI pod holds: each of its `workers` processes fills every engine's pool and
    overflow."""
    pools = pool_settings(overflow)
    return workers * sum(pools[f"{pool}_SIZE"] + pools[f"{pool}_MAX_OVERFLOW"] for _, pool in WEBUI_ENGINES)


def webui_pool_overflow(available: Optional[int], max_replicas: int, workers: int = 1) -> int:
    """DATABASE_POOL_MAX_OVERFLOW for a server that admits `available` user connections: the most, up to
    MOST_POOL_OVERFLOW, whose worst case (webui_connections) fits; the floor for a server not known (None: no size
    given, or one Microsoft's table leaves out) or too small for more (the rule refuses one the floor does not fit)."""
    fitting = (overflow for overflow in range(MOST_POOL_OVERFLOW, LEAST_POOL_OVERFLOW, -1)
               if available is not None and webui_connections(max_replicas, workers, overflow) <= available)
    return next(fitting, LEAST_POOL_OVERFLOW)


# A pod that is Terminating keeps its pools until its process exits: Open-WebUI 0.11.0's lifespan disposes of no
# engine at shutdown (main.py 445-457). OpenWebUi's preStop hook first lets the pod's answers in flight finish, out of
# the Service's endpoints (while it has a call open to the model endpoint, at most the longest answer:
# open_webui.drain_seconds); then uvicorn 0.51.0 (start.sh execs it: PID 1) closes the websockets and waits for every
# open HTTP response (server.py `shutdown`, timeout_graceful_shutdown None: no limit), and the kubelet's SIGKILL ends
# it at the grace, the drain + 30 s (1830 s in dev and prod). A pod with no answer in flight is gone in seconds; one
# with a long answer holds its pools up to the grace, and nothing makes a replacement wait for it: the Deployment
# controller counts no Terminating pod (rolling.go `reconcileOldReplicaSets` sums the ReplicaSets' spec.replicas),
# nor does the ReplicaSet's (a deleted or evicted pod is replaced at once). KEP-3973's
# DeploymentReplicaSetTerminatingReplicas (beta, on, from 1.35) only reports them (status.terminatingReplicas); the
# policy that would wait, KEP-5882's DeploymentPodReplacementPolicy (`TerminationComplete`), is alpha from 1.36, off,
# a kube-apiserver and kube-controller-manager gate AKS does not let a cluster set.
# So each replacement of the pods within one drain adds up to max_replicas pods holding pools. One replacement: a
# rolling update (the new pods beside all the old ones), the autoscaler's scale-in then scale-out (the maximum beside
# max - min; its scale-down window outlasts the grace, open_webui.scale_down_window_seconds, so its next scale-in
# finds them gone), or a node-pool upgrade or node image update evicting the pods of a node (AKS waits for their
# termination before the next node: AgentPoolUpgradeSettings `drainTimeoutInMinutes`; the disruption budget counts no
# Terminating pod healthy, so a node's pods go one after another as each replacement is Ready), or the cluster
# autoscaler draining a node it removes (the same budget, up to `maxGracefulTerminationSec`). Counted: two of them
# within one drain, as happen without anyone waiting for the other: a `pulumi up` rolling the UI while the
# autoscaler's or AKS's replacement still drains, or the other way round, or two rollouts: up to 3 max pods. Not
# counted: a third within the same drain (a rollout while two others drain); the InferenceStack page says to wait
# until no open-webui pod is Terminating before rolling the UI again, which leaves the platform's own two
# (docs/decisions.md, "Open-WebUI's connections across overlapping drains").
OVERLAPPING_REPLACEMENTS = 2


def webui_pods(max_replicas: int) -> int:
    """The most Open-WebUI pods holding connections at once: the HPA's maximum running while two replacements of the
    pods (rollouts, the autoscaler's scale-in and scale-out, a node upgrade's evictions), each of up to the maximum,
    still drain their answers in flight."""
    return (1 + OVERLAPPING_REPLACEMENTS) * max_replicas


def webui_connections(max_replicas: int, workers: int = 1, overflow: int = LEAST_POOL_OVERFLOW) -> int:
    """The most connections Open-WebUI takes from its server: every pod webui_pods counts with full pools, its Jobs,
    and the administrator's room."""
    return webui_pods(max_replicas) * connections_per_pod(workers, overflow) + JOB_CONNECTIONS + ADMIN_CONNECTIONS


def most_webui_replicas(available: int, workers: int = 1) -> int:
    """The highest HPA maximum whose worst case fits `available` connections (0: not even one replica)."""
    replicas = 0
    while webui_connections(replicas + 1, workers) <= available:
        replicas += 1
    return replicas


def webui_connections_text(max_replicas: int, workers: int = 1) -> str:
    """How webui_connections adds up at the floor's overflow, in words (the rule's refusal: the least the pods take)."""
    pools = ", ".join(f"{engine} {pool}_SIZE {WEBUI_POOL_ENV[pool + '_SIZE']} + {pool}_MAX_OVERFLOW "
                      f"{WEBUI_POOL_ENV[pool + '_MAX_OVERFLOW']}" for engine, pool in WEBUI_ENGINES)
    old = webui_pods(max_replicas) - max_replicas
    replicas = f"{max_replicas} replica{'s' if max_replicas != 1 else ''}"
    return (f"({replicas} + {old} Terminating ones still holding theirs while they finish their answers: two "
            f"replacements of the pods within one drain, a rollout, the autoscaler's scale-in and out or a node "
            f"upgrade's evictions) x {connections_per_pod(workers)} per pod ({pools}; "
            f"in {workers} uvicorn worker{'s' if workers != 1 else ''}) + {JOB_CONNECTIONS} for the bootstrap and "
            f"migration Jobs + {ADMIN_CONNECTIONS} for the administrator = {webui_connections(max_replicas, workers)}")
