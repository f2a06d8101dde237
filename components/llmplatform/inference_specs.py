"""Pure decisions of the InferenceStack: scheduling for CPU or GPU, Ollama settings, the router's nginx config.

Kept apart from the component so they are unit-tested without Pulumi.
"""
import ipaddress
import json
import re
from typing import Any, Optional

from .postgres_access import LEAST_POOL_OVERFLOW, webui_pool_env
from .pins import OLLAMA_IMAGE, OPEN_WEBUI_IMAGE, ROUTER_IMAGE
from .upgrades import gpu_pool_upgrade, nodes_drained_at_once, pull_allowance_seconds, ready_bound_seconds

OLLAMA_PORT = 11434
ROUTER_PORT = 8080
# the gate's internal listener for its namespace's Open-WebUI (no key, no rate limit, Open-WebUI's Ollama routes only),
# when the model server is behind the KEDA interceptor (router_nginx_conf `ui_routes`)
ROUTER_UI_PORT = 8081
# the gate's listener for the Gateways (the HTTPRoutes' backend port): the only one that reads X-Forwarded-For, and
# the only one whose NetworkPolicy admits the Gateways' namespace; in-cluster clients call ROUTER_PORT, where a
# client's own X-Forwarded-For is never read (router_nginx_conf)
ROUTER_EDGE_PORT = 8082
WEBUI_PORT = 8080
API_KEY_LENGTH = 48  # characters of a generated client API key (letters and digits), the gate's and the edge's
KEY_MAP_CONTENT_TYPE = "text/x-nginx-conf"  # the Key Vault content type of an API gate's key map (api_key_map_line)
SECRETS_MOUNT = "/mnt/secrets-store"
# GPU memory Ollama's scheduler sets aside on each CUDA device before it places layers (ollama/ollama ml/device.go
# `MinimumMemory`: 457 MiB, besides OLLAMA_GPU_OVERHEAD, 0 by default), out of the total CUDA reports
OLLAMA_GPU_RESERVE_MIB = 457


SCALED_SERVICE = "ollama-scaled"  # ExternalName alias of the KEDA HTTP interceptor, when requests are scaled


def wait_budget_seconds(generation_seconds: int, cold_start_seconds: int = 0) -> int:
    """The longest a client may wait for one answer: the generation time, plus, when requests pass the KEDA
    interceptor, the time a replica may take to start from zero (the interceptor holds the request meanwhile, and
    no byte reaches the router or the gateway until the backend answers). Every hop in front of the interceptor waits
    at least this long, and the interceptor's own total deadline is this sum."""
    return generation_seconds + cold_start_seconds


def scaled_host(namespace: str) -> str:
    """The name clients reach the interceptor's alias by, and the Host header it routes on: namespaced, because the
    interceptor's routing table spans the cluster (the KEDA HTTP add-on 0.15.0 watches every namespace), so a bare
    `ollama-scaled` claimed by two namespaces' routes would send one's requests to the other's model server."""
    return f"{SCALED_SERVICE}.{namespace}"


def scaled_hosts(namespace: str) -> list[str]:
    """Host headers the interceptor maps to the model server (namespaced and fully qualified, with port; the
    interceptor strips a port before matching). Never the bare name (scaled_host)."""
    names = [scaled_host(namespace), f"{scaled_host(namespace)}.svc.cluster.local"]
    return names + [f"{n}:8080" for n in names]


def ollama_scheduling(accelerator: str, cpu_placement: Any, gpu_placement: Any, gpus: int) -> dict[str, Any]:
    """The one place CPU and GPU mode differ: where the pod runs (a placement: nodeSelector and tolerations) and
    whether it asks for GPUs."""
    if accelerator == "gpu":
        return {"placement": gpu_placement, "extra_limits": {"nvidia.com/gpu": str(gpus)}}
    return {"placement": cpu_placement, "extra_limits": {}}


# Ollama's container's own writable scratch (an emptyDir: its root filesystem is read-only), its HOME
OLLAMA_SCRATCH_DIR = "/tmp"
# where `ollama serve` keeps its key pair ($HOME/.ollama), written at its start when missing
OLLAMA_KEY_DIR = f"{OLLAMA_SCRATCH_DIR}/.ollama"


# Ollama's variable for each request's context in tokens (OllamaServer's `context_length`)
CONTEXT_LENGTH_ENV = "OLLAMA_CONTEXT_LENGTH"
# Ollama's own context for a request when the variable is unset, by the memory of the GPUs it sees, summed at start
# (v0.32.15 server/routes.go 2043-2058): (from GiB, tokens), else OLLAMA_SMALL_CONTEXT (no GPU among them)
OLLAMA_CONTEXT_TIERS = ((47, 262144), (23, 32768))
OLLAMA_SMALL_CONTEXT = 4096


def ollama_default_context(gpu_memory_gib: float) -> int:
    """The context Ollama gives a request when none is set (capped at the model's trained context), by the memory of
    the GPUs it sees (0 on CPU)."""
    return next((tokens for floor, tokens in OLLAMA_CONTEXT_TIERS if gpu_memory_gib >= floor), OLLAMA_SMALL_CONTEXT)


def ollama_env(models_path: str, num_parallel: int, keep_alive: str, max_loaded_models: int,
               context_length: Optional[int] = None) -> dict[str, str]:
    """Ollama's settings (it reads them from the environment only); the context only when given, else Ollama's own
    default by the GPU's memory (`ollama_default_context`)."""
    return {**({CONTEXT_LENGTH_ENV: str(context_length)} if context_length is not None else {}),
        "OLLAMA_HOST": f"0.0.0.0:{OLLAMA_PORT}",
        "OLLAMA_MODELS": models_path,
        "OLLAMA_NUM_PARALLEL": str(num_parallel),
        "OLLAMA_KEEP_ALIVE": keep_alive,
        "OLLAMA_MAX_LOADED_MODELS": str(max_loaded_models),
        "OLLAMA_NOPRUNE": "true",  # the shared store is read-only for servers; never prune it at start
        "HOME": OLLAMA_SCRATCH_DIR,  # Ollama keeps its key pair under $HOME/.ollama
    }


# A warm-up probe may read a large model from the share into memory: one attempt may take this long, and the warm-up
# must fit one (an attempt killed at its timeout aborts Ollama's load: the next starts over; the plan's [warm-up]).
WARM_UP_TIMEOUT_SECONDS = 600


def warm_up_command(model: str) -> list[str]:
    """Ollama's own preload, `ollama run <model> ""` (v0.32.15: cmd/cmd.go RunHandler makes a run with a prompt
    argument non-interactive and sends the empty prompt; server/routes.go GenerateHandler then loads the model and
    answers done_reason "load" without generating). The CLI reads a non-terminal stdin whole, so stdin is /dev/null;
    its output is discarded and its errors kept for the probe's event. The model is an argument ($0), never shell
    text."""
    return ["/bin/sh", "-c", 'exec ollama run "$0" "" </dev/null >/dev/null', model]


# after the drain: Ollama unloads its runners, nginx closes its workers, uvicorn closes Open-WebUI's websockets
SHUTDOWN_MARGIN_SECONDS = 30
# The UI's HPA scales in only once every recommendation of its scale-down window is lower, and it decides every sync
# period (kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization 300 s and --horizontal-pod-
# autoscaler-sync-period 15 s); the API admits a window of at most an hour (kubernetes pkg/apis/autoscaling/validation
# MaxStabilizationWindowSeconds)
HPA_SCALE_DOWN_WINDOW_SECONDS, HPA_SYNC_SECONDS, HPA_MAX_WINDOW_SECONDS = 300, 15, 3600


def stop_grace_seconds(wait_seconds: int) -> int:
    """terminationGracePeriodSeconds of a pod that lets the answers in flight run up to `wait_seconds` when it stops,
    then shuts down: the router's nginx, Ollama, the KEDA HTTP interceptor, Open-WebUI (its wait: drain_seconds)."""
    return wait_seconds + SHUTDOWN_MARGIN_SECONDS


# The replacements' time to Ready, as upgrades.ready_bound_seconds counts it from the probes the pods are given (REST
# names) and their image, the slowest container's: the gate's pod (api_router: no startup probe; nginx's readiness
# every 5 s, its key-map reloader's every 30 s), Open-WebUI (open_webui: a start of up to 300 s, readiness every 10 s)
# and Ollama (ollama_server: a start of up to 900 s, a warm-up attempt up to its timeout, readiness every 10 s);
# tests/offline/test_node_drains.py reads the planned pods' probes and images against them
ROUTER_READY_SECONDS = ready_bound_seconds(None, {"periodSeconds": 30, "failureThreshold": 3},
                                           pull_allowance_seconds([ROUTER_IMAGE]))
WEBUI_READY_SECONDS = ready_bound_seconds({"periodSeconds": 10, "failureThreshold": 30},
                                          {"periodSeconds": 10, "failureThreshold": 3},
                                          pull_allowance_seconds([OPEN_WEBUI_IMAGE]))
OLLAMA_READY_SECONDS = ready_bound_seconds({"periodSeconds": 10, "failureThreshold": 90,
                                            "timeoutSeconds": WARM_UP_TIMEOUT_SECONDS},
                                           {"periodSeconds": 10, "failureThreshold": 3},
                                           pull_allowance_seconds([OLLAMA_IMAGE]))


def gpu_nodes_drained_at_once(on_demand_nodes: list[int], max_surge: Optional[str]) -> int:
    """The most nodes an upgrade drains at once among a GPU pool's on-demand pools (`on_demand_nodes`: each one's
    most nodes; a regular pool, a spot pool's fallback; a spot pool is upgraded a node at a time, without surge):
    upgrades.nodes_drained_at_once under the upgradeSettings GpuNodePool writes them (upgrades.gpu_pool_upgrade,
    `max_surge` its upgrade_max_surge). The replicas on those nodes share one budget: GpuNodePool's handle carries
    the figure (GpuScheduling.nodes_drained_at_once) and the stack counts with it too."""
    settings = gpu_pool_upgrade(False, max_surge)
    return max((nodes_drained_at_once(n, settings) for n in on_demand_nodes), default=1)


def interceptor_grace_seconds(answer_seconds: int, cold_start_seconds: int) -> int:
    """The KEDA HTTP interceptor's grace: it lets a request held through a cold start and its answer finish."""
    return stop_grace_seconds(wait_budget_seconds(answer_seconds, cold_start_seconds))


def drain_seconds(longest_answer: int) -> int:
    """How long a stopping UI pod lets its answers in flight run before uvicorn gets SIGTERM: the longest answer,
    capped so that its grace (plus a sync period) fits the longest scale-down window the API admits
    (open_webui.scale_down_window_seconds)."""
    return min(longest_answer, HPA_MAX_WINDOW_SECONDS - HPA_SYNC_SECONDS - SHUTDOWN_MARGIN_SECONDS)


def answer_drains(answer_seconds: int, cold_start_seconds: int, gate_replicas: int,
                  webui_max_replicas: Optional[int], ollama_sharing: int) -> list[tuple[int, int, int]]:
    """The node drains of the pods that let the answers in flight finish when they stop, as
    upgrades.longest_drain_minutes takes them (grace, pods that may share a node, a replacement's time to Ready): the
    KEDA interceptor (one a node counted: its chart's probes are not read), the gate's nginx pods (`gate_replicas`)
    and, where it runs, Open-WebUI (`webui_max_replicas`; None: no UI), all of whose replicas may share a node, each
    waiting the answer and, behind KEDA (`cold_start_seconds` above 0), the cold start too; and Ollama, which waits
    the answer alone, `ollama_sharing` of its replicas on a node (docs/decisions.md, "Node drains with replicas that
    share a node")."""
    wait = wait_budget_seconds(answer_seconds, cold_start_seconds)
    grace = stop_grace_seconds(wait)
    drains = [(grace, 1, 0), (grace, gate_replicas, ROUTER_READY_SECONDS),
              (stop_grace_seconds(answer_seconds), ollama_sharing, OLLAMA_READY_SECONDS)]
    if webui_max_replicas:
        drains.append((stop_grace_seconds(drain_seconds(wait)), webui_max_replicas, WEBUI_READY_SECONDS))
    return drains


def drain_script(port: int, deadline_seconds: int, outbound: bool = False) -> str:
    """preStop of a server that closes its listener and every open connection at SIGTERM (Ollama v0.32.15,
    server/routes.go Serve: srvr.Close() on SIGTERM): wait until no TCP connection to `port` is established (the
    answers in flight are done and the idle keep-alive connections of the router and the interceptor, which stop
    sending here once the terminating pod leaves the Service's ready endpoints, have closed), at most
    `deadline_seconds`. `outbound`: the connections the pod opened to a server's `port` instead (its remote end), for
    a client whose work in flight is its calls to that server (Open-WebUI's answers, streamed from the model
    endpoint). Reads /proc/net/tcp{,6} (state 01 = ESTABLISHED), which needs no tool in the image."""
    column = 3 if outbound else 2  # proc(5): local_address is the second field, rem_address the third
    return f"""end=$(( $(date +%s) + {deadline_seconds} ))
sleep 5
while [ "$(date +%s)" -lt "$end" ]; do
  open=$(awk 'FNR > 1 && ${column} ~ /:{port:04X}$/ && $4 == "01"' /proc/net/tcp /proc/net/tcp6 2>/dev/null | wc -l)
  [ "$open" -eq 0 ] && exit 0
  sleep 2
done
"""


def resources(cpu_request: str, cpu_limit: Optional[str], memory_request: str, memory_limit: str,
              extra_limits: Optional[dict[str, str]] = None) -> dict[str, dict[str, str]]:
    limits = {"memory": memory_limit, **(extra_limits or {})}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    return {"requests": {"cpu": cpu_request, "memory": memory_request}, "limits": limits}


# The Ollama routes the API gate forwards, in the syntax of Ollama's route table (server/routes.go, v0.32.15): its
# inference routes (native, OpenAI- and Anthropic-compatible) and the read-only listing ones. Model management
# (/api/pull, /push, /create, /copy, /delete, /blobs), the ollama.com account and web-search routes are refused.
OLLAMA_API_ROUTES = (
    "/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/ps", "/api/tags", "/api/show",
    "/api/version", "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/models/:model",
    "/v1/responses", "/v1/audio/transcriptions", "/v1/messages",
)


# The Ollama routes Open-WebUI 0.11.0 calls on an Ollama connection (backend/open_webui/routers/ollama.py: tags, ps,
# version, show, the inference routes native and OpenAI/Anthropic-compatible, and /api/generate with keep_alive 0 to
# unload; retrieval/utils.py and utils/embeddings.py: /api/embed). Its model management (/api/pull, /push, /create,
# /copy, /delete, /api/blobs/:digest: admin-only, for a writable model directory) is left out: the servers read the
# shared store read-only, the preload Job writes it. A subset of OLLAMA_API_ROUTES.
OPEN_WEBUI_OLLAMA_ROUTES = (
    "/api/tags", "/api/ps", "/api/version", "/api/show", "/api/generate", "/api/chat", "/api/embed", "/api/embeddings",
    "/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/messages", "/v1/responses",
)


def route_regex(routes: tuple[str, ...]) -> str:
    """One anchored PCRE matching exactly these paths; a `:name` segment (gin's path parameter) is one segment."""
    def one(route: str) -> str:
        return "/".join("[^/]+" if part.startswith(":") else re.escape(part) for part in route.split("/"))
    return "^(?:" + "|".join(map(one, routes)) + ")$"


# The gate's own liveness (`/healthz`, answered by nginx) says nothing of the model server behind it. A probe that must
# fail when the region cannot answer (Front Door's API and llm-d origin groups: only a 200 counts as healthy) asks the
# model server through the gate instead: `MODEL_HEALTH_PATH` forwards a GET, without key or rate limit, to the upstream's
# model list (`/v1/models`: Ollama registers it, server/routes.go; so does any OpenAI-compatible server), answering
# its status, or 502/504 when no replica answers within MODEL_HEALTH_TIMEOUT_SECONDS.
MODEL_HEALTH_PATH = "/healthz/model"
MODEL_HEALTH_UPSTREAM_PATH = "/v1/models"
MODEL_HEALTH_TIMEOUT_SECONDS = 5


ROUTER_CPU_LIMIT = 1  # cores; nginx gets one worker per core of its limit
NGINX_PID_FILE = "/tmp/nginx.pid"  # the router's nginx writes its master's pid there (router_nginx_conf)
# how often the gate's reloader looks at its key map: with the CSI driver's 2-minute rotation poll (AksCluster's
# Key Vault add-on), a key map written anew reaches nginx within about two and a half minutes
KEY_MAP_POLL_SECONDS = 30
# how long the reloader waits, after its SIGHUP, for nginx's master to start new workers (it parses the configuration
# and forks them at once: milliseconds for the gate's); none by then, nginx refused the configuration
KEY_MAP_RELOAD_WAIT_SECONDS = 10
KEY_MAP_LOADED = "nginx loaded it (new workers started)"  # the reloader's words, after "key map changed: "
KEY_MAP_REFUSED = "nginx REFUSED it"


def key_map_reloader(key_map_path: str, pid_file: str = NGINX_PID_FILE,
                     poll_seconds: int = KEY_MAP_POLL_SECONDS,
                     reload_wait_seconds: int = KEY_MAP_RELOAD_WAIT_SECONDS) -> str:
    """The `sh -c` script of the gate's reloader container: nginx reads its key map (an `include` in a `map`) when it
    loads its configuration, so a key added or dropped in Key Vault, which the Secrets Store CSI driver's rotation
    writes into the mounted file, would wait for the pods' restart. The script checks the file's checksum every
    `poll_seconds` and, when it changed, sends nginx's master SIGHUP: nginx loads the configuration again, starts new
    workers with the new map and lets the old ones finish their requests (nginx.org "Controlling nginx"). It shares
    the pod's process namespace and the pid file's folder with nginx, under the same uid (POSIX sh: busybox's in the
    nginx image, dash in the tests).
    It then says what nginx did, which only the workers show: on SIGHUP the master runs `ngx_init_cycle` and, if it
    returns a cycle, forks new worker processes and sends the old ones the shutdown signal; if it fails (an `[emerg]`
    in nginx's own log, e.g. a malformed map line) it keeps the old cycle and forks nothing (nginx/nginx
    release-1.29.1 src/os/unix/ngx_process_cycle.c `ngx_master_process_cycle`, `if (ngx_reconfigure)`;
    src/core/ngx_cycle.c `ngx_init_cycle`, `failed:`). So the script notes the master's children (the 4th field of
    /proc/<pid>/stat, after the parenthesised name) before its SIGHUP and looks each second, up to
    `reload_wait_seconds`, for one that was not there: then nginx loaded the map; none, it REFUSED it and still serves
    the previous one. Either way that map is done with (a refused one is tried again only when the file changes
    again: one line per map content, no loop); only a SIGHUP that could not be sent is tried again at the next look.
    The container stays ready: nginx still answers, with the previous map.
    It stops at once on the signal the runtime stops it with: the image's STOPSIGNAL, SIGQUIT (nginxinc/docker-
    nginx-unprivileged 872c2c0, 1.29.1 mainline/alpine-slim/Dockerfile: the reloader shares nginx's image), which
    busybox's ash, unlike dash, ignores unless trapped (busybox 1_36_1 shell/ash.c `setsignal`: "In all cases, bash
    ignores SIGQUIT"): without the trap every gate pod stayed Terminating for its whole grace period (the longest
    answer and a margin). Every sleep runs in the background so that `wait` returns to the trap at once. Its first
    checksum is its own: a map written after nginx started (a rotation while this container restarted) has nginx
    load it at once, by the files' times (nginx writes its pid file when it starts, not when it reloads: nginx/nginx
    release-1.29.1 src/core/ngx_cycle.c `ngx_init_cycle`; the CSI driver writes a map anew only when it changed)."""
    return (f"map={key_map_path}; pid={pid_file}\n"
            f"patience={reload_wait_seconds}\n"
            "trap 'kill $! 2>/dev/null; exit 0' TERM QUIT INT\n"
            "kids() {\n"  # the master's children: " <pid> <pid> ..."
            "  k=; for f in /proc/[0-9]*/stat; do\n"
            '    { read -r l < "$f"; } 2>/dev/null || continue\n'
            '    set -- ${l##*\\) }; [ "$2" = "$m" ] || continue\n'
            '    f=${f%/stat}; k="$k ${f#/proc/} "\n'
            "  done\n"
            "}\n"
            "reload() {\n"  # $1: why; fails only when no SIGHUP could be sent
            '  m=$(cat "$pid") || return 1\n'
            '  kids; was=$k; kill -HUP "$m" || return 1\n'
            "  i=0; while [ $i -lt $patience ]; do\n"
            "    sleep 1 & wait $!; i=$((i + 1)); kids\n"
            "    for c in $k; do case $was in *\" $c \"*) ;; *)\n"
            f'      echo "$1: {KEY_MAP_LOADED}"; return 0;; esac; done\n'
            "  done\n"
            f'  echo "$1: {KEY_MAP_REFUSED} (no new workers within $patience s) and still serves the previous map:'
            ' its [emerg] is in the nginx container\'s log; a gate pod started now would fail on it"\n'
            "}\n"
            'seen=$(md5sum < "$map") && echo "watching $map: nginx (pid in $pid) loads it again when it changes"\n'
            '[ "$map" -nt "$pid" ] && reload "key map newer than nginx"\n'
            "while :; do\n"
            f"  sleep {poll_seconds} & wait $!\n"
            '  now=$(md5sum < "$map") || continue\n'
            '  [ "$now" = "$seen" ] && continue\n'
            '  reload "key map changed" && seen=$now\n'
            "done\n")


def nginx_workers(cpu_limit: Optional[str]) -> int:
    """nginx worker processes for a CPU limit (a Kubernetes quantity: "2", "1500m"): one per whole core, at least
    one; no limit keeps the default of one core's worth."""
    if not cpu_limit:
        return ROUTER_CPU_LIMIT
    text = str(cpu_limit).strip()
    cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    return max(1, int(cores))


OPENAI_ROUTES_PREFIX = "/v1"  # where an OpenAI-compatible server answers (vLLM, Ollama's compatibility layer)


# Open-WebUI reads its database URL, session key, model API key and first admin's password only from its environment:
# exported at start from the files the CSI driver mounts (fixed names through objectAlias), never in the pod spec.
DATABASE_URL_FILE, SESSION_KEY_FILE, MODEL_KEY_FILE = "database-url", "webui-secret-key", "model-api-key"
ADMIN_PASSWORD_FILE = "webui-admin-password"
WEBUI_SECRET_FILES = {"DATABASE_URL": DATABASE_URL_FILE, "PGVECTOR_DB_URL": DATABASE_URL_FILE,
                      "WEBUI_SECRET_KEY": SESSION_KEY_FILE}
MODEL_KEY_VAR, ADMIN_PASSWORD_VAR = "OPENAI_API_KEY", "WEBUI_ADMIN_PASSWORD"


def secret_env_file(variable: str) -> str:
    """The file (objectAlias) a `secret_env` variable's Key Vault secret is mounted as: apart from the fixed ones."""
    return "env-" + variable.lower().replace("_", "-")


def webui_state_env(redis_url: str) -> dict[str, str]:
    """Replicas share websocket sessions and app state through Redis (Valkey)."""
    return {"ENABLE_WEBSOCKET_SUPPORT": "true", "WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_url,
            "REDIS_URL": redis_url}


def webui_users_env(model_access: str, enable_signup: bool, default_user_role: str,
                    admin_email: Optional[str]) -> dict[str, str]:
    """Who may sign up and which models users see (Open-WebUI 0.11.0). `BYPASS_MODEL_ACCESS_CONTROL` (env.py, read
    at every start): true lets every user list and use every model; false keeps Open-WebUI's access control, under
    which a model with no access grant is listed to admins only (utils/models.py `get_filtered_models`).
    `ENABLE_SIGNUP` and `DEFAULT_USER_ROLE` (config.py, `ui.enable_signup` and `ui.default_user_role` in its
    DEFAULT_CONFIG: seeded into the database on the first start, read from there afterwards while persistent config
    is on). `WEBUI_ADMIN_EMAIL` (env.py) with `WEBUI_ADMIN_PASSWORD` (exported from Key Vault) creates that admin at
    start while no account exists (main.py, utils/auth.py `create_admin_user`), so nobody else can be first."""
    env = {"BYPASS_MODEL_ACCESS_CONTROL": "true" if model_access == "all" else "false",
           "ENABLE_SIGNUP": "true" if enable_signup else "false", "DEFAULT_USER_ROLE": default_user_role}
    if admin_email:
        env["WEBUI_ADMIN_EMAIL"] = admin_email
    return env


# An Ollama UI keeps the model list each of its processes last fetched whole (Open-WebUI 0.11.0, PyPI wheel): with
# `models.base_models_cache` on, utils/models.py get_all_models (lines 73-79) answers every model list from
# app.state.BASE_MODELS once a fetch has filled it, without asking Ollama again; off, each list asks Ollama's /api/tags
# (routers/ollama.py get_all_models, lines 386-450), which behind the KEDA interceptor waits for a cold start until
# AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST (env.py lines 610-617: 10 s) gives up, and leaves the process's
# app.state.OLLAMA_MODELS empty (line 450): a chat then asks again (get_ollama_url, lines 1068-1080) and is refused
# "model not found" (HTTP 400) while the replica is still starting. Kept, a chat finds its model's address at once and
# waits the cold start at the interceptor (send_request: no total timeout). The list is fetched again when the process
# starts (main.py lines 378-397), when an admin saves Admin Panel > Settings > Connections (routers/ollama.py
# update_config) and by admin pages that list Ollama's models; docs/decisions.md, "2026-12-05 (late): Open-WebUI's model
# list while Ollama is at zero". The setting is seeded into the database at the first start and read from there
# (config.py line 364 and DEFAULT_CONFIG line 2797, models/config.py seed_defaults): the migration Job sets it too
# (STACK_SETTINGS_CODE, from this variable), so a UI that first started without it follows.
BASE_MODELS_CACHE_SETTING = "ENABLE_BASE_MODELS_CACHE"  # its database key: open_webui_config's table


def webui_env(api: str, model_url: Any, data_dir: str, migrations_switch: str,
              shared_state: dict[str, str], pool_overflow: int = LEAST_POOL_OVERFLOW) -> dict[str, Any]:
    """Open-WebUI's environment for one model endpoint (open_webui/config.py, 0.11.0): Ollama's native API at
    `model_url`, or an OpenAI-compatible API at `model_url` (its /v1 base), whose bearer key the start script exports
    from the CSI mount as OPENAI_API_KEY. An OpenAI connection turns persistent config off: Open-WebUI otherwise keeps
    the connection a first start saved in the database over the environment, so a database an earlier UI used would
    keep pointing elsewhere. Replicas never migrate the schema (the migration Job does). Its database pools are
    sized explicitly (postgres_access.WEBUI_POOL_ENV; the engines' overflow `pool_overflow`, webui_pool_overflow), so
    its connections stay within what the server admits. An
    Ollama UI keeps the model list it fetched (BASE_MODELS_CACHE_SETTING): its Ollama may be at zero replicas."""
    if api == "ollama":
        return {"OLLAMA_BASE_URL": model_url, "VECTOR_DB": "pgvector", "DATA_DIR": data_dir,
                "ENABLE_OLLAMA_API": "true", BASE_MODELS_CACHE_SETTING: "true", migrations_switch: "false",
                **webui_pool_env(pool_overflow), **shared_state}
    return {"OPENAI_API_BASE_URL": model_url, "VECTOR_DB": "pgvector", "DATA_DIR": data_dir,
            "ENABLE_OPENAI_API": "true", "ENABLE_OLLAMA_API": "false", "ENABLE_PERSISTENT_CONFIG": "false",
            migrations_switch: "false", **webui_pool_env(pool_overflow), **shared_state}


def per_pod_limit(rate_per_second: int, burst: int, replicas: int) -> tuple[int, int]:
    """nginx keeps a limit_req zone per instance, so N router pods would let a client through N times the
    limit. Each pod enforces its share, in requests per minute (nginx's finer unit), so the pods together admit
    the configured rate for a client whose requests the gateway spreads over them (Envoy balances per request)."""
    pods = max(1, replicas)
    return max(1, round(rate_per_second * 60 / pods)), -(-burst // pods)


# Behind Azure Front Door the gateway's peer is a Front Door server, not the client, and Envoy appends that
# server's address to X-Forwarded-For (Istio "Configuring Gateway Network Topology": the gateway appends its
# downstream address). Front Door appends the address of the client's own connection before it (Azure docs,
# "Protocol support for HTTP headers in Azure Front Door": X-Forwarded-For), so the entry before the last is the
# client as Front Door saw it, which no client can set. Taken only from requests carrying X-Azure-FDID (Front Door
# sets it; the external Gateway admits no other, GatewayAccess front_door_id) whose gateway peer (the last entry,
# $remote_addr after realip) is no private address: the internal Gateway admits any header, but its callers (pods,
# the VNet) have private addresses, and Front Door connects from its public backend ranges (service tag
# AzureFrontDoor.Backend). Such a caller is keyed by its own address. The key is "<private 0|1>|<FDID>|<XFF>".
FRONT_DOOR_CLIENT = r"^0\|[^|]+\|(?:.*,)?\s*([^,\s]+)\s*,\s*[^,\s]+\s*$"
# RFC 1918, shared (RFC 6598) and unique-local IPv6 addresses: never a Front Door server's. A VNet or pod range may
# be public space too (Azure Virtual Network FAQ: any range, public ones included), so the stack's own ranges are
# added (private_ranges).
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")

# the cluster handle's ranges, besides the pod range, whose callers are the stack's own (router_nginx_conf's
# own_cidrs; ApiGate and LlmdStack refuse a value that is no range, as nginx would)
OWN_RANGE_FIELDS = ("node_subnet_cidr", "vnet_cidr")
# the ranges an API gate's nginx writes (set_real_ip_from, the Front Door flag's geo): one it cannot read stops nginx
ROUTER_RANGE_FIELDS = ("pod_cidr", *OWN_RANGE_FIELDS)


def private_ranges(own_cidrs: Optional[list[str]] = None) -> list[str]:
    """PRIVATE_CIDRS and each of the stack's own ranges (`own_cidrs`: the pod range, the node subnet, the VNet),
    widest first, that no range listed before it holds: a cluster whose VNet or pods use public space has its
    callers flagged as well, and one in private space gets the same list (and nginx.conf) as before."""
    listed: list[str] = list(PRIVATE_CIDRS)
    held = [ipaddress.ip_network(cidr) for cidr in PRIVATE_CIDRS]
    for cidr in sorted(own_cidrs or [], key=_prefix_length):
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:  # a handle's value no rule could read before it resolved: written as given, as before
            listed.append(cidr)
            continue
        if not any(net.version == h.version and net.subnet_of(h) for h in held):  # type: ignore[arg-type]
            listed.append(str(net))
            held.append(net)
    return listed


def _prefix_length(cidr: str) -> int:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen
    except ValueError:
        return 0


def client_key_map(front_door: bool, own_cidrs: Optional[list[str]] = None) -> tuple[str, str]:
    """(nginx blocks, rate-limit key variable): the client's address, or behind Front Door the address Front
    Door saw (FRONT_DOOR_CLIENT) for what came through it; `own_cidrs` (the stack's pod, node and VNet ranges) count
    as private (private_ranges)."""
    if not front_door:
        return "", "$binary_remote_addr"
    private = "".join(f"      {cidr} 1;\n" for cidr in private_ranges(own_cidrs))
    return (f'    geo $rate_limit_private_peer {{\n      default 0;\n{private}    }}\n'
            f'    map "$rate_limit_private_peer|$http_x_azure_fdid|$http_x_forwarded_for" $rate_limit_client {{\n'
            f'      default $remote_addr;\n      "~{FRONT_DOOR_CLIENT}" $1;\n    }}\n'), "$rate_limit_client"


def router_nginx_conf(upstream: str, rate_per_second: int, burst: int, api_key_auth: bool,
                      trusted_cidrs: list[str], timeout_seconds: int, upstream_host: Optional[str] = None,
                      key_map_object: str = "api-key-map", allowed_routes: Optional[tuple[str, ...]] = None,
                      replicas: int = 1, workers: int = ROUTER_CPU_LIMIT, front_door: bool = False,
                      ui_routes: Optional[tuple[str, ...]] = None, own_cidrs: Optional[list[str]] = None,
                      ui_rate_limited: bool = False) -> str:
    """nginx in front of the raw model API: per-client rate limit answering 429 with Retry-After, bearer API keys,
    timeouts long enough for streamed answers, and MODEL_HEALTH_PATH (the upstream's model list, no key: what Front Door
    probes). Two listeners serve the API alike: ROUTER_PORT for in-cluster clients, keyed on the caller's own address,
    and ROUTER_EDGE_PORT for the Gateways, whose client addresses come from X-Forwarded-For, trusted from
    `trusted_cidrs` (the pod range) there alone: every in-cluster client has an address in that range, so on a
    shared listener any of them could name a new client in each request and never be limited. `front_door`: the
    gateways are behind Azure Front Door (client_key_map), where a peer in `trusted_cidrs` or `own_cidrs` (the
    stack's node subnet and VNet) is keyed on itself. With
    `allowed_routes`, only those paths reach the model server; any other answers 403 (after the key check).
    `rate_per_second` and `burst` are per client across the `replicas` router pods; `workers` nginx processes (one
    per core of the container's CPU limit). With `ui_routes`, a third listener (ROUTER_UI_PORT) for the namespace's
    Open-WebUI: no key (the UI signs its users in), only those paths, the same upstream, Host header and timeouts; a
    NetworkPolicy admits the UI's pods alone. No rate limit (all of the UI's users arrive from its pods' addresses),
    unless `ui_rate_limited`: then each UI pod is held to the API listener's per-caller limit, the one it met there
    with the key (LlmdStack's UI, which called the keyed listener before it had one of its own)."""
    per_minute, pod_burst = per_pod_limit(rate_per_second, burst, replicas)
    # not recursive: the last entry is the one the gateway appended, its own peer; recursive, nginx would walk past
    # a pod's address there (trusted: the pod range) to whatever that pod wrote before it
    realip = "".join(["        real_ip_header X-Forwarded-For;\n        real_ip_recursive off;\n",
                      *(f"        set_real_ip_from {cidr};\n" for cidr in trusted_cidrs)])
    client_map, client = client_key_map(front_door, [*trusted_cidrs, *(own_cidrs or [])])
    # before the first map (nginx reads it there): the key map's keys are `Bearer <key>` (api_key_map_line)
    buckets = f"    map_hash_bucket_size {map_hash_bucket_size(len('Bearer ') + API_KEY_LENGTH)};\n" \
        if api_key_auth else ""
    auth = (f"    map $http_authorization $api_key_valid {{\n      default 0;\n"
            f"      include {SECRETS_MOUNT}/{key_map_object};\n    }}\n") if api_key_auth else ""
    # the KEDA interceptor routes on the Host header
    host = f"        proxy_set_header Host {upstream_host};\n" if upstream_host else ""

    # the in-cluster listener's per-caller limit, keyed on the UI pod's own address as it is there
    ui_limit = ("per_caller", pod_burst, per_minute) if ui_rate_limited else None

    def api_server(port: int, zone: str, realip: str) -> str:
        return f"""    server {{
        listen {port};
{realip}{api_locations(zone, pod_burst, per_minute, api_key_auth, host, timeout_seconds, allowed_routes)}    }}
"""
    # `auto` would count the node's CPUs (sysconf), not the container's CPU limit
    return f"""worker_processes {workers};
pid {NGINX_PID_FILE};
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    server_tokens off;
    client_max_body_size 32m;
{buckets}{client_map}    limit_req_zone {client} zone=per_client:10m rate={per_minute}r/m;
    limit_req_zone $binary_remote_addr zone=per_caller:10m rate={per_minute}r/m;
    limit_req_status 429;
{NO_RETRY_MAP}{CHALLENGE_MAP if api_key_auth else ""}{auth}    upstream model_server {{
        server {upstream};
        keepalive 32;
    }}
{api_server(ROUTER_PORT, "per_caller", "")}{api_server(ROUTER_EDGE_PORT, "per_client", realip)}\
{ui_server(ui_routes, host, timeout_seconds, ui_limit) if ui_routes else ""}}}
"""


def api_locations(zone: str, pod_burst: int, per_minute: int, api_key_auth: bool, host: str, timeout_seconds: int,
                  allowed_routes: Optional[tuple[str, ...]]) -> str:
    """The locations of an API listener (router_nginx_conf): the probes, the forwarded routes under the key and the
    limit `zone`, the 429, and the refusal of every other path. One text for both API listeners."""
    check = ("        if ($api_key_valid = 0) { return 401; }\n"
             "        add_header WWW-Authenticate $key_challenge always;\n") if api_key_auth else ""
    forwarded = f'location ~ "{route_regex(allowed_routes)}"' if allowed_routes else "location /"
    refused = f"        location / {{\n{check}        return 403;\n        }}\n" if allowed_routes else ""
    proxy = streamed_proxy(host, timeout_seconds)
    return f"""        location = /healthz {{ access_log off; return 200 "ok\\n"; }}
        location = {MODEL_HEALTH_PATH} {{
        access_log off;
        limit_except GET {{ deny all; }}
        proxy_pass http://model_server{MODEL_HEALTH_UPSTREAM_PATH};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Authorization "";
{host}        proxy_connect_timeout {MODEL_HEALTH_TIMEOUT_SECONDS}s;
        proxy_read_timeout {MODEL_HEALTH_TIMEOUT_SECONDS}s;
        }}
        {forwarded} {{
{check}{limit_lines(zone, pod_burst)}{proxy}        add_header X-Should-Retry $should_retry always;
        }}
{limited_answer(per_minute)}{refused}"""


def limit_lines(zone: str, pod_burst: int) -> str:
    """A forwarding location's rate limit: the `zone`'s, with this pod's share of the burst, past which
    limited_answer (which its server block holds) answers. One text for the API listeners and LlmdStack's UI
    listener."""
    return f"        limit_req zone={zone} burst={pod_burst} nodelay;\n        error_page 429 @rate_limited;\n"


def limited_answer(per_minute: int) -> str:
    """The 429 of a server block whose locations have limit_lines, with Retry-After (retry_after_seconds)."""
    return f"""        location @rate_limited {{
        add_header Retry-After {retry_after_seconds(per_minute)} always;
        return 429;
        }}
"""


def nginx_map(source: str, target: str, match: str, value: str) -> str:
    """An http-level `map` setting `target` to `value` where `source` matches `match`, else to "" (a header whose
    value is empty is left out: add_header with it adds nothing)."""
    return f"    map {source} {target} {{\n      default \"\";\n      {match} {value};\n    }}\n"


# A 504 the gate answers on a model route is a deadline spent: its own read timeout, or its upstream's (the KEDA
# interceptor's: no header within the generation time, or no replica Ready within the cold start; llm-d's pool
# gateway: its route's timeout), each after a wait of minutes, during which a non-streamed answer was being
# generated. The OpenAI SDKs retry every status >= 500 twice by default, each retry the same wait again and, for a
# long answer, the same generation again; they obey `x-should-retry: false` before looking at the status
# (openai-python 3.63.0 and 1.109.1 `_base_client.py` `_should_retry`). nginx sets $upstream_status to 504 for its
# own upstream timeout too, and leaves a header whose value is empty out (ngx_http_headers_filter_module.c
# `ngx_http_add_header`); a 502 (nothing answered: a replica or the interceptor restarting) is still retried.
# $upstream_status lists every try ("502, 504": nginx tries an idempotent request again on a new connection when a
# kept-alive one fails, ngx_http_upstream.c ngx_http_upstream_next, `u->peer.cached`): the last is the answer's.
NO_RETRY_MAP = nginx_map("$upstream_status", "$should_retry", "~504$", "false")
# A 401 names the scheme that would be accepted (RFC 9110 11.6.1: a server generating a 401 "MUST send a
# WWW-Authenticate header field"; the key goes as a bearer token, RFC 6750 3). The gate's own 401s only: $status is
# the answer's, and an empty value leaves the header out as above.
CHALLENGE_MAP = nginx_map("$status", "$key_challenge", "401", "'Bearer realm=\"llm-platform\"'")


# The Gateway's route to an API gate waits this much longer than the gate. Both wait for the same answer, and the
# Gateway's timer starts first: Envoy's route timeout runs from the end of the downstream request, the gate's read
# timeout from when it has sent the request on (proxy_request_buffering: after reading it whole). With equal
# timeouts Envoy's own 504 ("upstream request timeout", no X-Should-Retry) was the one a client got.
GATE_ROUTE_MARGIN_SECONDS = 5


def gate_route_timeouts(gate_seconds: int) -> dict[str, str]:
    """An HTTPRoute rule's `timeouts` in front of an API gate that waits `gate_seconds` (GATE_ROUTE_MARGIN_SECONDS):
    the gate's answer to a spent deadline, a 504 marked not to be retried (NO_RETRY_MAP), reaches the client."""
    seconds = f"{gate_seconds + GATE_ROUTE_MARGIN_SECONDS}s"
    return {"request": seconds, "backendRequest": seconds}


def retry_after_seconds(per_minute: int) -> int:
    """Retry-After on the rate limit's 429: the seconds until the client's next request is admitted once the burst is
    spent, whole seconds rounded up as the header takes them (RFC 9110 10.2.3). nginx keeps the rate in requests per
    1000 s, truncated (`ctx->rate = rate * 1000 / scale`, 60 for r/m), and admits the next request once
    `rate * ms / 1000` has drained one request (1000) from a full bucket (ngx_http_limit_req_module.c,
    ngx_http_limit_req_zone and ngx_http_limit_req_lookup, nginx/nginx release-1.29.1 0024724f2f, unchanged since
    1.22.1): after ceil(10^6 / rate) ms, longer than 60/per_minute s where the truncation bites (20 r/m: 3.004 s)."""
    per_kilosecond = per_minute * 1000 // 60
    return max(1, -(-1000 // per_kilosecond))


# llm-d's routing headers (llm-d/llm-d-router v0.10.0, 71f4f099, pkg/common/routing/common.go), which the picker
# writes for the decode pods' sidecar and a client must not: the sidecar sends the prefill leg to the host:port a
# request's x-prefiller-host-port names and hands the client a failed leg's answer as it came, and when the picker
# picks no prefill it leaves the client's own header in place (it answers Envoy with SetHeaders alone, no
# RemoveHeaders: pkg/epp/handlers/request.go). Passed on, a key holder could aim the decode pods at any address their
# egress admits (docs/decisions.md, "Second red-team review"). nginx sends no header set to "" (proxy_set_header).
LLMD_ROUTING_HEADERS = ("X-Prefiller-Host-Port", "X-Encoder-Hosts-Ports", "X-Data-Parallel-Host-Port",
                        "X-KV-Cache-Source-Host-Port")


def streamed_proxy(host: str, timeout_seconds: int) -> str:
    """The proxy lines of a location forwarding to the model server (its answer streamed, no key and none of llm-d's
    routing headers passed on): one text for the API listener and the UI listener, so the two cannot drift."""
    dropped = "".join(f'        proxy_set_header {name} "";\n' for name in LLMD_ROUTING_HEADERS)
    return f"""        proxy_pass http://model_server;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Authorization "";
{dropped}{host}        proxy_buffering off;
        proxy_read_timeout {timeout_seconds}s;
        proxy_send_timeout {timeout_seconds}s;
"""


def ui_server(routes: tuple[str, ...], host: str, timeout_seconds: int,
              limit: Optional[tuple[str, int, int]] = None) -> str:
    """The router's server block for its namespace's Open-WebUI (router_nginx_conf `ui_routes`): `host` is the
    Host header line of the API listener (the KEDA interceptor routes on it), the timeouts are the API listener's
    (cold start included); `limit` (zone, this pod's burst, its rate per minute): the forwarded routes held to it,
    with the API listeners' 429 (none: no limit)."""
    limited, answer = (limit_lines(limit[0], limit[1]), limited_answer(limit[2])) if limit else ("", "")
    return f"""    server {{
        listen {ROUTER_UI_PORT};
        location ~ "{route_regex(routes)}" {{
{limited}{streamed_proxy(host, timeout_seconds)}        }}
{answer}        location / {{ return 403; }}
    }}
"""


def map_hash_bucket_size(key_length: int) -> int:
    """nginx's map_hash_bucket_size for a map whose longest key is `key_length` bytes: a bucket holds at least one
    element (a pointer, the length, the key, aligned to a pointer) and a terminating pointer (nginx src/core/ngx_hash.c
    ngx_hash_init, NGX_HASH_ELT_SIZE), and the default bucket is one cache line (64 bytes on x86-64): too small for a
    bearer key of API_KEY_LENGTH, which nginx refuses at start ("could not build map_hash"). Rounded up to a power of
    two from 64, as nginx aligns it to its cache line."""
    pointer = 8
    element = pointer + -(-(key_length + 2) // pointer) * pointer
    size = 64
    while size < element + pointer:
        size *= 2
    return size


def api_key_map_line(api_key: str) -> str:
    """The nginx map entry accepting one bearer key; stored in Key Vault, mounted by the CSI driver."""
    return f'"Bearer {api_key}" 1;\n'


def key_vault_objects(names: list[str], aliases: Optional[dict[str, str]] = None) -> str:
    """The `objects` parameter of an Azure SecretProviderClass (a YAML document in a string). `aliases` maps a
    secret name to the file name it is mounted as (objectAlias), so a pod reads a fixed path whatever the secret's
    name in Key Vault."""
    def item(name: str) -> str:
        alias = (aliases or {}).get(name)
        return f"    - |\n      objectName: {name}\n      objectType: secret" + (
            f"\n      objectAlias: {alias}" if alias else "")
    return "array:\n" + "\n".join(map(item, names)) + "\n"


# Open-WebUI 0.11.0 runs `alembic upgrade head` when open_webui.config is imported, unless ENABLE_DB_MIGRATIONS
# (open_webui/env.py, default "True", true when lower-cased "true") says otherwise; its run_migrations logs and
# swallows a failure. The migration Job runs the same upgrade (alembic.ini and migrations/ under OPEN_WEBUI_DIR)
# so that a failure fails the Job, and with it the deploy, before any replica starts on the new schema.
MIGRATIONS_SWITCH = "ENABLE_DB_MIGRATIONS"
MIGRATE_CODE = (
    "from alembic import command; from alembic.config import Config; "
    "from open_webui.env import OPEN_WEBUI_DIR as d; c = Config(d / \"alembic.ini\"); "
    "c.set_main_option(\"script_location\", str(d / \"migrations\")); command.upgrade(c, \"head\")")
MIGRATE_COMMAND = f"python -c '{MIGRATE_CODE}'"

# Open-WebUI 0.11.0 keeps its Ollama connections in its database: `ollama.base_urls` (config.py DEFAULT_CONFIG, from
# OLLAMA_BASE_URL) is written by the first start and read from the database afterwards while persistent config is on
# (models/config.py Config.seed_defaults, Config.get; routers/ollama.py reads it at each request), so a new
# OLLAMA_BASE_URL never reaches a UI that started once. After the schema upgrade, the migration Job replaces each
# address the platform handed such a UI before (argv[2:]) by the one it hands now (argv[1]), through Open-WebUI's own
# Config model (its engine, its JSON encoding); an address an admin entered is left alone. Idempotent.
OLLAMA_URLS_KEY = "ollama.base_urls"
REPOINT_CODE = f"""
import asyncio, sys
from open_webui.models.config import Config as Settings
now, stale = sys.argv[1], set(sys.argv[2:])
async def repoint():
    urls = await Settings.get("{OLLAMA_URLS_KEY}")
    if isinstance(urls, list) and any(str(u).rstrip("/") in stale for u in urls):
        await Settings.upsert({{"{OLLAMA_URLS_KEY}": [now if str(u).rstrip("/") in stale else u for u in urls]}})
        print("{OLLAMA_URLS_KEY}:", urls, "->", now)
asyncio.run(repoint())
"""


# The same database holds every persistent setting the UI's environment seeds (open_webui_config: Open-WebUI 0.11.0's
# config.py, DEFAULT_CONFIG), the kept model list (BASE_MODELS_CACHE_SETTING) among them: seeded at the first start
# from the environment of that start and read from the database afterwards, so a value changed in the stack file
# reached the pod and not the UI. The Job writes each one the UI's plain environment sets (argument `settings`: key ->
# value, converted as Open-WebUI converts the variable), through Open-WebUI's own Config model; a key already holding
# that value (same type: a string "true" is not True) is left alone. The values stand in the Job's command, so its name
# (a hash of the command) changes with them: a new Job runs when one changes, and only then does the stack file
# overwrite what an admin set in the panel. Idempotent. Embedded as JSON in a raw string: json.dumps escapes every
# quote and control character, and a single quote (the shell's) becomes \u0027.
STACK_SETTINGS_CODE = """
import json
stack_settings = json.loads(r\"\"\"{settings}\"\"\")
async def follow_stack_file():
    for key, value in stack_settings.items():
        saved = await Settings.get(key)
        if type(saved) is not type(value) or saved != value:
            await Settings.upsert({{key: value}})
            print(key + ": set from the stack file")
asyncio.run(follow_stack_file())
"""


def stack_settings_code(settings: dict[str, Any]) -> str:
    """STACK_SETTINGS_CODE for `settings` (database key -> JSON value), sorted so the command is stable."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=True).replace("'", "\\u0027")
    return STACK_SETTINGS_CODE.format(settings=text)


def migrate_command(ollama_url: Optional[str] = None, stale_urls: tuple[str, ...] = (),
                    settings: Optional[dict[str, Any]] = None) -> str:
    """The migration Job's command: the schema upgrade, and with `ollama_url` the repointing of the UI's saved Ollama
    connections (REPOINT_CODE) from `stale_urls` and the persistent settings the stack file sets
    (STACK_SETTINGS_CODE: `settings`, open_webui_config.persistent_settings of the UI's plain environment), in one
    process (the start script execs it)."""
    if not ollama_url:
        return MIGRATE_COMMAND
    urls = [ollama_url, *sorted(set(stale_urls) - {ollama_url})]
    if any("'" in url for url in urls):
        raise ValueError(f"cannot pass {urls!r} in single quotes")
    code = f"{MIGRATE_CODE}\n{REPOINT_CODE}{stack_settings_code(settings or {})}"
    return f"python -c '{code}' " + " ".join(f"'{url}'" for url in urls)


def exec_with_secret_files(variables: dict[str, str], command: str) -> str:
    """Shell that exports each variable from the file the CSI driver mounted (variable -> path), then execs
    `command`. For images that read a secret only from their environment: the value never sits in the pod spec or
    in a Kubernetes Secret, only in Key Vault and the pod's in-memory CSI mount. A missing file stops the start."""
    lines = ["set -eu"]
    for var, path in variables.items():
        if not var.isidentifier() or "'" in path:
            raise ValueError(f"cannot export {var!r} from {path!r}")
        lines.append(f"{var}=\"$(cat '{path}')\"; export {var}")
    return "\n".join([*lines, f"exec {command}", ""])
