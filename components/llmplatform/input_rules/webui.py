"""OpenWebUi's value rules: its settings, secrets kept out of plain environment values, and its database
connections within the server's limit."""
import re
from typing import Any, Mapping, Optional

from .. import azure_names as names, postgres_options
from ..choices import (MAX_PREMIUM_SHARE_GIB, MIN_PREMIUM_SHARE_GIB, UPLOADS_STORAGE_CLASSES, WEBUI_MODEL_ACCESS,
                       WEBUI_USER_ROLES)
from ..inference_specs import (ADMIN_PASSWORD_VAR, MIGRATIONS_SWITCH, MODEL_KEY_VAR, WEBUI_PORT, WEBUI_SECRET_FILES,
                               drain_seconds, stop_grace_seconds, webui_env, webui_state_env, webui_users_env)
from ..open_webui_config import int_settings
from ..postgres_access import most_webui_replicas, webui_connections, webui_connections_text
from ..rules import SIGN_IN_EMAIL, WITHHELD, Problem, Rules, known, resources_rules
from .shared import (EnvAlias, drain_rule, endpoint_rule, env_alias_rule, listener_rule, not_true, not_variables,
                     plain_env_rule, route_target_rule, webui_sharing)


# the variables OpenWebUi sets itself, for either kind of endpoint (inference_specs): its inputs say them, extra_env and
# secret_env may not
MANAGED_WEBUI_ENV = tuple(sorted({
    *webui_env("ollama", "", "", MIGRATIONS_SWITCH, {}), *webui_env("openai", "", "", MIGRATIONS_SWITCH, {}),
    *webui_state_env(""), *webui_users_env("all", False, "pending", "a@b.c"), *WEBUI_SECRET_FILES,
    MODEL_KEY_VAR, ADMIN_PASSWORD_VAR}))


def _unset(value: str) -> bool:
    """A value Open-WebUI takes for unset (env.py, config.py: `if value:`, `!= ''`; start.sh `${NAME:-default}`)."""
    return value == ""


_DATABASE_PARTS = ("DATABASE_TYPE", "DATABASE_USER", "DATABASE_PASSWORD", "DATABASE_HOST", "DATABASE_PORT",
                   "DATABASE_NAME")
_VALKEY = "standalone Valkey ({}, set with more than one replica or uvicorn worker)"
_SERVED = f"port {WEBUI_PORT} on every address of the pod, where the Service and the probes call"
_UVICORN = "uvicorn 0.51.0 (main.py reads UVICORN_<OPTION> for any option start.sh does not pass)"
# What Open-WebUI 0.11.0 (start.sh, env.py, config.py, internal/db.py, utils/redis.py, socket/main.py) and the uvicorn
# it pins (0.51.0: main.py, config.py, server.py) read as another way to a setting the component sets: each would
# replace it without an error. Sources, and the names found harmless, in docs/decisions.md ("2026-12-05: settings the
# software reads under another name").
WEBUI_ENV_ALIASES = {
    **{part: EnvAlias("DATABASE_URL (from Key Vault)",
                      "Open-WebUI 0.11.0 (env.py) builds a database URL from DATABASE_TYPE, DATABASE_HOST, "
                      "DATABASE_PORT, DATABASE_NAME and DATABASE_USER or DATABASE_PASSWORD once all are set, and "
                      "uses it in place of DATABASE_URL", _unset)
       for part in _DATABASE_PARTS},
    "DATABASE_ENABLE_IAM_TOKEN_AUTH": EnvAlias(
        "database password (DATABASE_URL's)", "'true' (any case) makes Open-WebUI 0.11.0 (env.py, internal/db.py "
        "RDSIAMTokenAuth) sign in to the database with an AWS RDS IAM token as the password", not_true),
    "OLLAMA_BASE_URLS": EnvAlias(
        "OLLAMA_BASE_URL (an Ollama endpoint's address)", "Open-WebUI 0.11.0 (config.py) reads it, when not empty, "
        "in place of OLLAMA_BASE_URL (its Ollama servers, ';'-separated)", _unset),
    "OPENAI_API_BASE_URLS": EnvAlias(
        "OPENAI_API_BASE_URL (an OpenAI-compatible endpoint's /v1 address)", "Open-WebUI 0.11.0 (config.py) reads "
        "it, when not empty, in place of OPENAI_API_BASE_URL (its OpenAI connections, ';'-separated)", _unset),
    "OPENAI_API_KEYS": EnvAlias(
        f"{MODEL_KEY_VAR} (the endpoint's key, from Key Vault)", "Open-WebUI 0.11.0 (config.py) reads it, when not "
        f"empty, in place of {MODEL_KEY_VAR} (one key per OpenAI connection, ';'-separated)", _unset),
    "REDIS_SENTINEL_HOSTS": EnvAlias(
        _VALKEY.format("REDIS_URL"), "Open-WebUI 0.11.0 (utils/redis.py get_redis_connection) connects through "
        "these Sentinels when given, before REDIS_URL's server", _unset),
    "WEBSOCKET_SENTINEL_HOSTS": EnvAlias(
        _VALKEY.format("WEBSOCKET_REDIS_URL"), "Open-WebUI 0.11.0 (socket/main.py) connects its websocket manager "
        "through these Sentinels when given, before WEBSOCKET_REDIS_URL's server", _unset),
    "REDIS_CLUSTER": EnvAlias(
        _VALKEY.format("REDIS_URL"), "'true' (any case) makes Open-WebUI 0.11.0 (env.py, utils/redis.py) speak Redis "
        "Cluster to REDIS_URL, and to WEBSOCKET_REDIS_URL too unless WEBSOCKET_REDIS_CLUSTER says otherwise",
        not_true),
    "WEBSOCKET_REDIS_CLUSTER": EnvAlias(
        _VALKEY.format("WEBSOCKET_REDIS_URL"), "'true' (any case) makes Open-WebUI 0.11.0's websocket manager "
        "(env.py, socket/main.py) speak Redis Cluster to WEBSOCKET_REDIS_URL", not_true),
    "PORT": EnvAlias(_SERVED, f"start.sh (Open-WebUI 0.11.0) hands it to uvicorn's --port in place of {WEBUI_PORT} "
                              f"('{WEBUI_PORT}' or empty passes: start.sh's own)",
                     lambda value: value in ("", str(WEBUI_PORT))),
    "HOST": EnvAlias(_SERVED, "start.sh (Open-WebUI 0.11.0) hands it to uvicorn's --host in place of 0.0.0.0 "
                              "('0.0.0.0' or empty passes: start.sh's own)",
                     lambda value: value in ("", "0.0.0.0")),
    "UVICORN_UDS": EnvAlias(_SERVED, f"{_UVICORN} then listens on this Unix socket, not on the host and port "
                                     "start.sh passes (server.py)"),
    "UVICORN_FD": EnvAlias(_SERVED, f"{_UVICORN} then serves the socket of this file descriptor, not the host and "
                                    "port start.sh passes (server.py)"),
    **{name: EnvAlias(f"plain HTTP on port {WEBUI_PORT}, which the Service's callers and the probes speak",
                      f"{_UVICORN} then serves TLS (config.py is_ssl), or stops at start without a certificate file")
       for name in ("UVICORN_SSL_CERTFILE", "UVICORN_SSL_KEYFILE")},
}


def webui_env_rules(r: Rules) -> None:
    """OpenWebUi's escape hatches: plain settings (extra_env) and settings from Key Vault (secret_env), neither one
    the component sets, each variable in one of them, a secret in extra_env refused."""
    env, secrets = r.given("extra_env"), r.given("secret_env")
    for key, given in (("extra_env", env), ("secret_env", secrets)):
        if given is not None and not isinstance(given, Mapping):
            r.add(key, WITHHELD, "an object of environment variable names to strings")  # a string may be a secret
    aliased = env_alias_rule(r, "extra_env", WEBUI_ENV_ALIASES)
    plain_env_rule(r, MANAGED_WEBUI_ENV, "sets from its inputs",
                   f"; put the value in Key Vault and name its secret in {r.ref('secret_env')}", aliased)
    env_alias_rule(r, "secret_env", WEBUI_ENV_ALIASES, judge_values=False)
    if isinstance(env, Mapping):  # a persistent setting read with int() (open_webui_config): another value stops the
        for var in sorted(set(map(str, env)) & int_settings()):  # UI at start, and the migration Job writes it
            value = env[var]
            try:
                int(value) if isinstance(value, str) else None
            except ValueError:
                r.add(f"extra_env[{var!r}]", value, "a whole number (Open-WebUI 0.11.0's config.py reads it with "
                                                    "int(), which refuses any other text at start)")
    if isinstance(secrets, Mapping):
        # by variable name only: a value that is no secret name may be the secret itself, pasted in its place
        bad = not_variables(secrets, names.key_vault_secret)
        managed = sorted(set(map(str, secrets)) & set(MANAGED_WEBUI_ENV))
        both = sorted(set(map(str, secrets)) & set(map(str, env))) if isinstance(env, Mapping) else []
        values = [v for v in secrets.values() if isinstance(v, str) and names.key_vault_secret(v) is None]
        twice = sorted({v for v in values if values.count(v) > 1})
        if bad:
            r.add("secret_env", bad, "environment variable names mapped to Key Vault secret names (1-127 letters, "
                                     "digits and hyphens; the values given are not shown, in case one is the "
                                     "secret itself rather than its name)")
        if managed:
            r.add("secret_env", managed, f"variables other than {', '.join(MANAGED_WEBUI_ENV)}, which the component "
                                         "sets from its inputs")
        if both:
            r.add("secret_env", both, f"variables not also in {r.ref('extra_env')}")
        if twice:
            r.add("secret_env", twice, "one variable per Key Vault secret (each is mounted once)")
        if "UVICORN_WORKERS" in secrets:  # read from extra_env alone (uvicorn_workers): from Key Vault it went unseen
            named = secrets["UVICORN_WORKERS"]  # shown when a secret's name, as the other refusals of secret_env
            r.add("secret_env['UVICORN_WORKERS']",
                  named if isinstance(named, str) and names.key_vault_secret(named) is None else WITHHELD,
                  f"UVICORN_WORKERS in {r.ref('extra_env')}: the component sizes the database connections and the "
                  "shared websocket state by it, and the worker count is no secret")


def open_webui(args: Mapping[str, Any]) -> list[Problem]:
    """OpenWebUi's inputs (the endpoint, its database, replicas and HPA targets, resources, uploads volume, users
    and models, extra settings)."""
    r = Rules(args, "OpenWebUi")
    endpoint_rule(r)
    route_target_rule(r)
    listener_rule(r, "ui_listener")
    header = known(r.args.get("endpoint"), "host_header")
    if header:  # the KEDA interceptor's Host: Open-WebUI cannot send it, and the interceptor admits gates alone
        r.add("endpoint.host_header", header, "an endpoint the UI calls by its URL alone: behind the KEDA interceptor "
              "(an OllamaServer given `keda`), the `ui_endpoint` of the ApiGate in front of it (`ui_listener`)")
    app_url = r.secret_name("database_url_secret")
    admin_url = r.secret_name("admin_database_url_secret")
    if admin_url is not None and admin_url == app_url:
        r.add("admin_database_url_secret", admin_url, f"a Key Vault secret other than {r.ref('database_url_secret')} "
              "(the administrator's URL, which the UI's own pods never read)")
    secret_env = r.args.get("secret_env")
    if admin_url is not None and isinstance(secret_env, Mapping):
        for var, secret in sorted(secret_env.items()):
            if secret == admin_url:
                r.add(f"secret_env[{var!r}]", secret, f"a Key Vault secret other than "
                      f"{r.ref('admin_database_url_secret')} (the administrator's URL: only the bootstrap Job "
                      "reads it)")
    r.text("database_name", names.postgres_database)  # PostgresServer's `database`, held to its rule
    r.secret_name("secret_key_secret")
    # the start of its identities' Azure names, held to the rule its unset fallback (the resource name) is held to
    r.text("name_prefix", names.azure_name_start)
    # where it runs (its workload identities' ServiceAccounts too: a WorkloadIdentity child refused a wrong one as
    # its own `namespace`); "" reads as not given (the endpoint's, as the component takes it)
    if r.given("namespace") != "":
        r.text("namespace", names.dns_label)
    r.texts("client_namespaces", names.dns_label)
    low = r.whole("replicas", 1, 50)
    high = r.whole("max_replicas", 1, 50)
    if low is not None and high is not None and high < low:
        r.add("max_replicas", high, f"at least {r.ref('replicas')} ({low})")
    r.whole("cpu_target_percent", 1, 100)  # the HPA's utilisation targets, percent of the request
    r.whole("memory_target_percent", 1, 100)
    resources_rules(r.section("resources"))
    tier = r.choice("uploads_tier", UPLOADS_STORAGE_CLASSES)
    premium = tier == "premium"  # Azure Files Premium's smallest share is 100 GiB; Standard takes any size
    r.whole("uploads_size_gib", MIN_PREMIUM_SHARE_GIB if premium else 1, MAX_PREMIUM_SHARE_GIB,
            f" with {r.ref('uploads_tier')} premium (standard takes any size)" if premium else "")
    answer = r.whole("request_timeout_seconds", 1, 86400)
    drain_rule(r, "the UI's pods", stop_grace_seconds(drain_seconds(answer)) if answer else None,
               f"{r.ref('request_timeout_seconds')} (at most {drain_seconds(86400)}) + 30 s", "request_timeout_seconds",
               drain_seconds(answer) if answer else None, **webui_sharing(high or low))
    r.choice("model_access", WEBUI_MODEL_ACCESS)
    r.flag("enable_signup")
    r.choice("default_user_role", WEBUI_USER_ROLES)
    r.text("admin_email", SIGN_IN_EMAIL)
    webui_env_rules(r)
    database_connections_rule(r, high)
    return r.problems


def uvicorn_workers(r: Rules) -> int:
    """The server processes in one Open-WebUI pod, each with its own database pools: extra_env's UVICORN_WORKERS,
    which start.sh hands to `uvicorn --workers` (1 unset)."""
    env = r.given("extra_env")
    value = env.get("UVICORN_WORKERS") if isinstance(env, Mapping) else None
    if value is None:
        return 1
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,3}", value):
        return int(value)
    r.add("extra_env['UVICORN_WORKERS']", value, "a whole number from 1 to 9999 (start.sh hands it to uvicorn's "
                                                 "--workers)")
    return 1


def database_connections_rule(r: Rules, max_replicas: Optional[int]) -> None:
    """Open-WebUI's most connections (postgres_access.webui_connections: three times the HPA's maximum of pods with
    full pools, the running ones while two replacements' pods still hold theirs until their process exits, its Jobs,
    the administrator's room) within the user connections of the server's compute size (postgres_options:
    Microsoft's table). A size the table leaves out is not judged."""
    sku = r.text("database_sku_name", postgres_options.any_sku_problem)
    workers = uvicorn_workers(r)
    if not sku or max_replicas is None:
        return
    available = postgres_options.user_connections(sku)
    if available is None:
        return
    need = webui_connections(max_replicas, workers)
    if need <= available:
        return
    most, size = most_webui_replicas(available, workers), r.ref("database_sku_name")
    tier = postgres_options.sku_tier(sku)
    larger = postgres_options.smallest_size_for(tier, need) if tier else None
    fewer = f"at most {most} with {size} {sku}" if most else f"no replica count fits {size} {sku}"
    bigger = f"a larger {size} ({larger}: {postgres_options.user_connections(larger)} user connections)" if larger \
        else f"a larger {size}"
    workers_text = f", or fewer UVICORN_WORKERS in {r.ref('extra_env')} ({workers})" if workers > 1 else ""
    r.add("max_replicas", max_replicas,
          f"{fewer}, or {bigger}{workers_text}: Open-WebUI may hold {webui_connections_text(max_replicas, workers)} "
          f"connections, and {sku} admits {available} (its {postgres_options.max_connections(sku)} max_connections "
          f"less the {postgres_options.reserved_connections()} Azure reserves)")
