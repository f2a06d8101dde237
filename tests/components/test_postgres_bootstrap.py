"""OpenWebUi's database bootstrap (llmplatform.postgres_access.BOOTSTRAP_SCRIPT), run with its Job's own command
(`bootstrap_command`) and the driver its image carries (psycopg2-binary 2.9.12), against a real PostgreSQL: the
distribution's, which `make test` unpacks into .venv/debian (Debian 12's 15.18 here; Ubuntu 24.04's 16 in the
GitHub workflow), with TLS and an administrator as Azure makes it (CREATEROLE and CREATEDB, a member of
azure_pg_admin, no superuser). Azure runs 16 by default (`postgres.version`); what differs in 16 for these statements
is argued in docs/decisions.md.

Only addresses and paths are rewritten: the URLs' port (database_url writes 5432) and their root CA file. pgvector is
a stand-in: a control file with no objects of note, marked `trusted` to stand for Azure's allow-list, which lets an
azure_pg_admin member create it (pgvector's own control file is not trusted; docs/decisions.md)."""
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest

from llmplatform.input_rules import postgres_server

from llmplatform.postgres_access import (ADMIN_URL_FILE, APP_LOGIN, APP_URL_FILE, ROOTS_PATH, bootstrap_command,
                                         database_url)

from tests.conftest import PROJECT_DIR, plan_for
from tests.ports import free_port

PG_BIN = PROJECT_DIR / ".venv" / "debian" / "pgbin"
NOBODY = 65534  # PostgreSQL refuses to run as root: as root the server runs as nobody
SUPERUSER, ADMIN, DATABASE = "azuresu", "pgadmin", "openwebui"
ADMIN_PASSWORD, APP_PASSWORD = "admin pw/with:odd@chars", "first app password #1"
STAND_IN = {"vector.control": "comment = 'stand-in for pgvector (tests/components/test_postgres_bootstrap.py)'\n"
                              "default_version = '0.8.0'\nrelocatable = true\ntrusted = true\n",
            "vector--0.8.0.sql": "CREATE FUNCTION vector_stand_in() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"}


def as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


def server_binaries(root: Path) -> Path:
    """The server's bin directory, where the server's user reaches it. As root the server runs as nobody, who cannot
    enter a checkout under a private directory (`mktemp -d` makes one 0700): then the installation is linked into
    `root`, open to all, its lib and share beside its bin as PostgreSQL finds them (relative to its own binary)."""
    binaries = PG_BIN.resolve()  # .../usr/lib/postgresql/<major>/bin
    if os.geteuid() != 0:
        return binaries
    usr, major = binaries.parents[3], binaries.parent.name
    for part in (Path("lib", "postgresql", major), Path("share", "postgresql", major)):
        if (usr / part).is_dir():
            shutil.copytree(usr / part, root / "usr" / part, copy_function=_link_or_copy)
    return root / "usr" / "lib" / "postgresql" / major / "bin"


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem
        shutil.copy2(source, target)


def share_dir(binaries: Path) -> Path:
    """The server's share directory: beside its binaries (Debian's layout), else the one `pg_config` names."""
    beside = binaries.parents[3] / "share" / "postgresql" / binaries.parent.name
    if beside.is_dir():
        return beside
    return Path(subprocess.run(["pg_config", "--sharedir"], capture_output=True, text=True, check=True).stdout.strip())


def run(command: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, **kw)
    assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}"
    return done


def tls_files(root: Path) -> None:
    """A test CA and a server certificate for `localhost`, signed by it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA"],
        cwd=root)
    run(["openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], cwd=root)
    (root / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "2", "-extfile", "san.ext"], cwd=root)
    os.chmod(root / "server.key", 0o600)


@pytest.fixture(scope="module")
def server():
    assert (PG_BIN / "initdb").exists(), f"{PG_BIN} is missing: `make test` unpacks Debian's PostgreSQL there"
    root = Path(tempfile.mkdtemp(prefix="llmp-pg-"))
    root.chmod(0o755)
    pg_bin = server_binaries(root)
    for name, text in STAND_IN.items():
        (share_dir(pg_bin) / "extension" / name).write_text(text)
    tls_files(root)
    if os.geteuid() == 0:
        for path in (root, *root.iterdir()):
            os.chown(path, NOBODY, NOBODY)
    run(as_server_user([str(pg_bin / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "-N", "--auth=trust"]))
    # the superuser over the socket only; every TCP connection with TLS and a SCRAM password, as on Azure
    (root / "data" / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n")
    port = free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on "
               f"-c ssl_cert_file={root}/server.crt -c ssl_key_file={root}/server.key -c log_statement=all")
    run(as_server_user([str(pg_bin / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-w",
                        "-o", options, "start"]))
    try:
        with superuser(root, port, "postgres") as cur:
            cur.execute("CREATE ROLE azure_pg_admin NOLOGIN")
            cur.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE CREATEDB IN ROLE azure_pg_admin PASSWORD %s",
                        (ADMIN_PASSWORD,))
            cur.execute(f"CREATE DATABASE {DATABASE} OWNER {ADMIN}")
        yield {"root": root, "port": port}
    finally:
        subprocess.run(as_server_user([str(pg_bin / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def superuser(root: Path, port: int, database: str):
    conn = psycopg2.connect(host=str(root), port=port, user=SUPERUSER, dbname=database)
    conn.autocommit = True
    try:
        yield conn.cursor()
    finally:
        conn.close()


def local_url(server, login: str, password: str, database: str = DATABASE) -> str:
    """database_url's URL with the test server's port and CA in place of 5432 and Azure's roots."""
    url = database_url(login, password, "localhost", database)
    assert ":5432/" in url and ROOTS_PATH in url
    return url.replace(":5432/", f":{server['port']}/").replace(ROOTS_PATH, str(server["root"] / "ca.pem"))


def bootstrap(server, tmp_path: Path, app_login: str = APP_LOGIN, app_password: str = APP_PASSWORD,
              admin: tuple[str, str] = (ADMIN, ADMIN_PASSWORD), database: str = DATABASE, schema: str = ""):
    """The Job's command, with the image's `python` this venv's, on the two URL files the CSI driver mounts."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / ADMIN_URL_FILE).write_text(local_url(server, *admin, database) + "\n")
    (secrets / APP_URL_FILE).write_text(local_url(server, app_login, app_password, database) + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"  # a wrapper, not a link: a link elsewhere would not find the venv's pyvenv.cfg
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return subprocess.run(bootstrap_command(str(secrets), schema), capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})


def connect(server, login: str, password: str, database: str = DATABASE):
    return psycopg2.connect(local_url(server, login, password, database))


def test_the_bootstrap_makes_the_apps_own_role_owner_of_its_database_and_runs_again(server, tmp_path):
    with connect(server, ADMIN, ADMIN_PASSWORD) as conn, conn.cursor() as cur:  # what an earlier release made
        cur.execute("CREATE TABLE IF NOT EXISTS chat (id serial PRIMARY KEY); CREATE VIEW recent AS SELECT * FROM chat;"
                    "CREATE TYPE mood AS ENUM ('ok')")
    done = bootstrap(server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"role {APP_LOGIN} owns database {DATABASE}; vector extension present"
    with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, pg_get_userbyid(d.datdba) "
                    "FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()")
        assert cur.fetchone() == (APP_LOGIN, False, False, False, APP_LOGIN)
        cur.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        assert cur.fetchone() == ("vector",)
        cur.execute("SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') "
                    "UNION ALL SELECT typname, pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'mood'")
        assert dict(cur.fetchall()) == {"chat": APP_LOGIN, "recent": APP_LOGIN, "chat_id_seq": APP_LOGIN,
                                        "mood": APP_LOGIN}
        cur.execute("CREATE TABLE app_made (x int)")  # Open-WebUI's migrations, as the app
    again = bootstrap(server, tmp_path)
    assert again.returncode == 0, again.stderr


def test_a_new_password_replaces_the_old_and_no_log_line_holds_either(server, tmp_path):
    assert bootstrap(server, tmp_path).returncode == 0
    new = "rotated password 2"
    assert bootstrap(server, tmp_path, app_password=new).returncode == 0
    connect(server, APP_LOGIN, new).close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(server, APP_LOGIN, APP_PASSWORD)
    log = (server["root"] / "server.log").read_text()
    assert "ALTER ROLE" in log and "SCRAM-SHA-256$" in log  # every statement logged: the verifier, not a password
    for password in (APP_PASSWORD, new, quote(new, safe="")):
        assert password not in log


def test_an_app_url_naming_the_administrator_is_refused_before_any_change(server, tmp_path):
    def owners():
        with superuser(server["root"], server["port"], DATABASE) as cur:
            cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (DATABASE,))
            return cur.fetchone()
    before = owners()
    done = bootstrap(server, tmp_path, app_login=ADMIN, app_password=ADMIN_PASSWORD)
    assert done.returncode == 1
    assert re.search(rf"the application URL names role '{ADMIN}' on '{DATABASE}'.*two roles on one database",
                     done.stderr), done.stderr
    assert owners() == before


def test_a_new_database_gets_the_role_and_pgvector_empty_and_the_old_one_goes_once_nothing_holds_it(server, tmp_path):
    """`postgres.database` renamed (chat1 to chat2): the run creates the new database (the administrator's, as the
    fixture's), then OpenWebUi's bootstrap Job, named after the database (OpenWebUi `database_marks`), runs on its
    URLs. The role the old database's bootstrap made stays, logs in with the same password, and owns the new database
    too, which has pgvector and nothing of the old one: a new name is an EMPTY database (docs/operations.md).
    PostgreSQL refuses to drop a database a session holds (55006, as Azure's delete reports it), what the old UI pods
    do until their rollout ends: why PostgresServer creates the new database first and deletes the old one last."""
    with superuser(server["root"], server["port"], "postgres") as cur:
        for database in ("chat1", "chat2"):
            cur.execute(f"CREATE DATABASE {database} OWNER {ADMIN}")
    assert bootstrap(server, tmp_path, database="chat1").returncode == 0
    with contextlib.closing(connect(server, APP_LOGIN, APP_PASSWORD, "chat1")) as conn, conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE chats (x int); INSERT INTO chats VALUES (1)")  # the UI's data, as the app
    done = bootstrap(server, tmp_path, database="chat2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"role {APP_LOGIN} owns database chat2; vector extension present"
    with contextlib.closing(connect(server, APP_LOGIN, APP_PASSWORD, "chat2")) as conn, conn, conn.cursor() as cur:
        cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        assert cur.fetchone() == (APP_LOGIN,)
        cur.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        assert cur.fetchone() == ("vector",)
        cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S')")
        assert cur.fetchone() == (0,)  # the migration Job makes the schema next; the data stays in chat1
        cur.execute("CREATE TABLE migrated (x int)")  # the migration Job, as the app
    old_ui = connect(server, APP_LOGIN, APP_PASSWORD, "chat1")  # an old UI pod, still on the old database
    admin = connect(server, ADMIN, ADMIN_PASSWORD, "chat2")  # a member of the app's role, its owner's rights
    admin.autocommit = True
    try:
        with old_ui.cursor() as cur:
            cur.execute("SELECT count(*) FROM chats")
            assert cur.fetchone() == (1,)  # untouched by the new database's bootstrap
        with admin.cursor() as cur, pytest.raises(psycopg2.errors.ObjectInUse, match="being accessed by other users"):
            cur.execute("DROP DATABASE chat1")
        old_ui.close()  # the rollout done: no pod on it
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE chat1")
    finally:
        old_ui.close()
        admin.close()
    with superuser(server["root"], server["port"], "postgres") as cur:  # left as the other tests find it
        cur.execute("DROP DATABASE chat2")


def plan_shaped_password(inputs: dict) -> str:
    """A password the plan's RandomPassword (`inputs`, as planned) may generate: its length, every character of its
    special set first and last (a URL, libpq and SQL each read a leading or trailing '-' in their own way), and the
    letters and digits its minimums ask for between."""
    specials = inputs["overrideSpecial"] if inputs.get("special") else ""
    middle = "aZ9" * inputs["length"]
    password = (specials + middle)[:inputs["length"] - len(specials)] + specials[::-1]
    assert len(password) == inputs["length"] and sum(c.isupper() for c in password) >= inputs.get("minUpper", 0)
    return password


def test_the_bootstrap_takes_credentials_and_names_as_long_and_odd_as_the_plan_and_the_rules_allow(server, tmp_path):
    """The fixture's administrator and database above are short; the plan's passwords are RandomPassword's (read
    from the dev plan: their length and special characters) and a user may name the administrator and the database
    up to 63 characters (the input rules' patterns, PostgreSQL's NAMEDATALEN - 1). With all three at their longest
    and oddest, the bootstrap still connects as that administrator, hands the database to the app's role, and the
    app signs in with its URL."""
    inputs = {r.name: r.inputs for r in plan_for("dev").of_type("random:index/randomPassword:RandomPassword")
              if r.name.startswith("postgres-")}
    admin_password, app_password = (plan_shaped_password(inputs[f"postgres-{role}-password"])
                                    for role in ("admin", "app"))
    assert {"-", "_"} <= set(admin_password) and len(admin_password) == 40  # dev's plan, as reviewed today
    longest_admin, longest_database = "_" + "a1" * 31, "z_" * 31 + "9"
    assert len(longest_admin) == len(longest_database) == 63
    # PostgresServer's input rules allow both
    assert [x for x in postgres_server({"admin_login": longest_admin, "database": longest_database})
            if x.path in ("admin_login", "database")] == []
    with superuser(server["root"], server["port"], "postgres") as cur:
        cur.execute(f"CREATE ROLE {longest_admin} LOGIN CREATEROLE CREATEDB IN ROLE azure_pg_admin PASSWORD %s",
                    (admin_password,))
        cur.execute(f"CREATE DATABASE {longest_database} OWNER {longest_admin}")
    done = bootstrap(server, tmp_path, app_password=app_password, admin=(longest_admin, admin_password),
                     database=longest_database)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"role {APP_LOGIN} owns database {longest_database}; vector extension present"
    with connect(server, APP_LOGIN, app_password, longest_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, current_database()")
        assert cur.fetchone() == (APP_LOGIN, longest_database)


def test_a_schema_of_the_apps_own_takes_the_migrations_the_ui_is_pointed_at(server, tmp_path, monkeypatch):
    """A UI given DATABASE_SCHEMA queries that schema's tables (Open-WebUI 0.11.0 internal/db.py); its Alembic
    migrations name no schema and write into the search_path's first, which PGOPTIONS sets for any libpq connection
    (the migration Job gets both, OpenWebUi `reaches_migration`). The bootstrapped role owns the database, so it can
    create that schema; the vector extension stays in public, reachable after it on the search_path. A schema not
    there yet is skipped by PostgreSQL without an error: the tables land in public (docs/decisions.md)."""
    assert bootstrap(server, tmp_path).returncode == 0
    monkeypatch.setenv("PGOPTIONS", "-c search_path=webui,public")
    with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE before_schema (x int)")  # no schema webui yet: public, silently
        cur.execute("CREATE SCHEMA IF NOT EXISTS webui")
        cur.execute("CREATE TABLE migrated (x int)")  # as Alembic's op.create_table, unqualified
        cur.execute("SELECT vector_stand_in()")  # the extension's objects, from public
        cur.execute("SELECT relname, relnamespace::regnamespace::text FROM pg_class "
                    "WHERE relname IN ('before_schema', 'migrated')")
        assert dict(cur.fetchall()) == {"before_schema": "public", "migrated": "webui"}
        cur.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'webui'")
        assert cur.fetchone() == (APP_LOGIN,)


def test_the_advisory_reads_pgoptions_search_path_as_the_server_does(server, tmp_path, monkeypatch):
    """config/advisories.py warns on webui.extraEnv.DATABASE_SCHEMA that is not the first schema of PGOPTIONS'
    search_path: each spelling the server takes (`-c`, `-c` glued, `--name`, '-' for '_', any case, a backslashed
    space, the later of two) is read as the server reads it, the first schema the one unqualified tables land in."""
    from llmplatform.postgres_access import first_schema, pgoptions_search_path
    assert bootstrap(server, tmp_path).returncode == 0
    with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
        cur.execute('CREATE SCHEMA IF NOT EXISTS webui; CREATE SCHEMA IF NOT EXISTS "WebUI"')
    for options in ("-c search_path=webui,public", "-csearch_path=webui,public", "--search_path=webui,public",
                    "--search-path=webui", "-c SEARCH_PATH=WebUI,public", '-c search_path="WebUI",public',
                    '-c search_path="$user",webui', "-c search_path=public,webui", r"-c search_path=\ WebUI,\ public",
                    "-c search_path=webui -c search_path=public", "-c statement_timeout=5000"):
        monkeypatch.setenv("PGOPTIONS", options)
        with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_schema()")  # the first existing schema of the search_path
            [first] = cur.fetchone()
        read = pgoptions_search_path(options)
        assert (first_schema(read) if read is not None else "public") == first, (options, read, first)


def test_the_urls_parts_win_over_libpqs_variables(server, tmp_path, monkeypatch):
    """extra_env's and secret_env's PG* variables reach the UI and its migration Job (OpenWebUi
    `reaches_migration`): libpq takes them only for what the connection string leaves out, and database_url states
    the host, port, login, password, database, sslmode and sslrootcert, so none of these moves the connection
    elsewhere or off TLS (docs/decisions.md, "Review of the migration Job's schema settings")."""
    assert bootstrap(server, tmp_path).returncode == 0
    service = tmp_path / "pg_service.conf"  # one PGSERVICE names must exist: a missing one fails the connection
    service.write_text("[elsewhere]\nhost=nowhere.invalid\nport=1\ndbname=postgres\nsslmode=disable\n")
    for var, value in {"PGHOST": "nowhere.invalid", "PGPORT": "1", "PGUSER": "postgres", "PGPASSWORD": "wrong",
                       "PGDATABASE": "postgres", "PGSSLMODE": "disable", "PGSSLROOTCERT": str(tmp_path / "none.pem"),
                       "PGSERVICE": "elsewhere", "PGSERVICEFILE": str(service),
                       "PGPASSFILE": str(tmp_path / "none.pgpass")}.items():
        monkeypatch.setenv(var, value)
    with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (APP_LOGIN, DATABASE, True)


@pytest.mark.parametrize("schema", ["webui", "WebUI", "chat; DROP TABLE x"])
def test_the_bootstrap_creates_the_uis_schema_owned_by_its_role_where_the_migrations_then_write(
        server, tmp_path, monkeypatch, schema):
    """With the UI's DATABASE_SCHEMA the bootstrap creates that schema as the administrator, owned by the UI's role
    (postgres_access.SCHEMA_SCRIPT), and runs again unchanged; an unqualified table (Alembic's) under PGOPTIONS'
    search_path then lands there. The name is an argument quoted as an identifier: capitals kept (SQLAlchemy quotes
    them too), text that looks like SQL is a name, never a statement."""
    first = bootstrap(server, tmp_path, schema=schema)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(f"schema {schema} present"), first.stdout
    again = bootstrap(server, tmp_path, schema=schema)
    assert again.returncode == 0, again.stderr
    quoted = '"' + schema.replace('"', '""') + '"'
    monkeypatch.setenv("PGOPTIONS", f"-c search_path={quoted.replace(' ', chr(92) + ' ')},public")
    with connect(server, APP_LOGIN, APP_PASSWORD) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,))
        assert cur.fetchone() == (APP_LOGIN,)
        cur.execute("CREATE TABLE migrated_here (x int)")  # as Alembic's op.create_table, unqualified
        cur.execute("SELECT current_schema(), to_regclass('migrated_here')::text IS NOT NULL")
        assert cur.fetchone() == (schema, True)
        conn.rollback()
        cur.execute("SELECT to_regclass('public.x') IS NULL")
        assert cur.fetchone() == (True,)
