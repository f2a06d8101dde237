"""What llm-verify's profiles share (llm-d in verify.py, Ollama in verify_ollama.py): the Kubernetes API through the
official client, every failure to ask it one line (ClusterError, never a traceback), the checks both profiles make
of the cluster (GPUs allocatable, a Deployment ready, the Gateways programmed) and the smoke request through the
stack's API gate."""
import contextlib
import inspect
import json
import logging
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import types
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator, Optional

import requests
import yaml
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from .endpoint import read_text, shown_url, url_problem
from .api_errors import ApiError, Deadlines, JsonTooDeep, excerpt, malformed_answer, parse_json, printable
from .llm_api import LlmClient
from .smoke import KEY_OPTION, Check, clean_api_key, failure_text, run_checks
from .transport import own_connections

GPU = "nvidia.com/gpu"
# How long the kubeconfig's exec plugin may take to give credentials when no one sees its prompt (_login_bounded):
# kubelogin's azurecli or workload-identity login takes seconds; its device code waits for a person.
LOGIN_TIMEOUT_S = 120.0
# A failing exec plugin's stderr in its FAIL line: at most this many characters of it (_said_why).
PLUGIN_STDERR_SHOWN = 300
# What llm-verify reads of an exec plugin's output when its prompt is unseen (_UnseenLoginPlugin._read): an
# ExecCredential is a few kilobytes (a token, or a client certificate and its key); of stderr, the end, where a
# failure is said.
CREDENTIAL_MAX_BYTES = 1 << 20
STDERR_KEPT_BYTES = 64 << 10
# Signals that end llm-verify by their default action and, while the plugin was of llm-verify's process group,
# reached it too: `timeout`'s or a supervisor's SIGTERM to the group, a closed terminal's SIGHUP, Ctrl-\'s SIGQUIT.
# In its session of its own it gets none of them (_UnseenLoginPlugin._killed_with_us).
ENDING_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT")
# A line saying what failed: cobra's `Error: ...` (kubelogin's last line when it fails: Azure/kubelogin main.go,
# pkg/cmd/token.go), the Azure CLI's `ERROR: ...` (which kubelogin's azurecli login quotes), klog's `E1207 ...`,
# Go's `panic: ...`, `fatal: ...`.
_ERROR_LINE = re.compile(r"(?:error|fatal|panic)\b|E\d{4} \d", re.IGNORECASE)
GATEWAY_API = ("gateway.networking.k8s.io", "v1", "gateways")
POD_READY = "Ready"  # kubernetes/api core/v1 PodReady
GATEWAY_PROGRAMMED = "Programmed"  # gateway-api v1.6.1 apis/v1/gateway_types.go GatewayConditionProgrammed


class ClusterError(Exception):
    """The cluster could not be asked (connection, TLS, credentials): one line, never a traceback."""


def selector_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_ready(pod: Any, completed_ok: bool = True) -> bool:
    """Running with the PodReady condition True; with `completed_ok`, a pod that ran to completion (Succeeded: the
    GPU Operator's validation pods end this way) too. A serving endpoint is never Succeeded (completed_ok=False)."""
    if pod.status is None:
        return False
    if pod.status.phase == "Succeeded":
        return completed_ok
    return pod.status.phase == "Running" and any(
        c.type == POD_READY and c.status == "True" for c in (pod.status.conditions or []))


def condition(conditions: Optional[list[Any]], kind: str) -> Optional[dict[str, Any]]:
    """The condition of that type, as a dict (custom resources' conditions are dicts, the typed models' objects)."""
    found = next((c for c in conditions or [] if (c.get("type") if isinstance(c, dict) else c.type) == kind), None)
    if found is None or isinstance(found, dict):
        return found
    return {"type": found.type, "status": found.status, "reason": found.reason, "message": found.message}


def stale(obj: dict[str, Any], found: Optional[dict[str, Any]]) -> bool:
    """A metav1.Condition set for an older spec: its observedGeneration is below the object's metadata.generation,
    so the controller has not (yet, or ever: an error that stops its reconcile) judged the current spec."""
    observed, generation = (found or {}).get("observedGeneration"), (obj.get("metadata") or {}).get("generation")
    return isinstance(observed, int) and isinstance(generation, int) and observed < generation


def true_now(obj: dict[str, Any], found: Optional[dict[str, Any]]) -> bool:
    """The condition is True, for the object's current generation."""
    return found is not None and found.get("status") == "True" and not stale(obj, found)


def verdict_text(obj: dict[str, Any], found: Optional[dict[str, Any]], missing: str = "no status yet") -> str:
    """condition_text, or that the condition is out of date."""
    if found and stale(obj, found):
        return (f"{condition_text(found, missing)}, set for generation {found['observedGeneration']}; the spec is at "
                f"{obj['metadata']['generation']}: the controller has not reconciled it")
    return condition_text(found, missing)


def condition_text(found: Optional[dict[str, Any]], missing: str = "no status yet") -> str:
    """`reason: message` of a condition, for a FAIL line."""
    if not found:
        return missing
    message = (found.get("message") or "").strip()[:160]
    return f"{found.get('reason') or found.get('status')}{': ' + message if message else ''}"


class Cluster:
    """The Kubernetes API through the official client; every failure to ask becomes a ClusterError."""

    def __init__(self, api_client: Any, timeout_s: float):
        from kubernetes import client
        self.core, self.apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        self.batch, self.autoscaling = client.BatchV1Api(api_client), client.AutoscalingV2Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.timeout = timeout_s
        # named when it cannot be reached: the kubeconfig's server, which may be another cluster's or a stale one
        self.server = str(getattr(getattr(api_client, "configuration", None), "host", "") or "")
        self._only_objects(api_client)

    def _only_objects(self, api_client: Any) -> None:
        """Every answer the checks read is a JSON object (an object, or a list's envelope). The client reads a 200
        that is not one (an HTML page, an empty or `null` body: a kubeconfig whose server is a web server or a
        proxy's login page) as a str or None, which a typed model refuses in pydantic's words ("1 validation error
        for V1Deployment"), a custom resource's check then failed on ("'str' object has no attribute 'get'"), and
        None read as 404 ("no Gateway in the cluster", "not found"). Such an answer is refused before the client
        reads it, saying what came back (kubernetes-client/python 37.0.2 `ApiClient.deserialize`: a text/* body is
        taken as a string, an empty JSON one as "")."""
        read = getattr(api_client, "response_deserialize", None)
        if read is None:
            return

        def objects_only(response_data: Any, response_types_map: Any = None) -> Any:
            if 200 <= (response_data.status or 0) <= 299:
                kind = response_data.headers.get("content-type") or "no content type"
                problem = not_an_object(response_data.data or b"", kind)
                if problem:
                    raise ClusterError(f"the API server{self._at()} answered {response_data.status} with {problem} "
                                       f"where a Kubernetes object belongs: is the kubeconfig's server the cluster's "
                                       f"API server?")
            return read(response_data=response_data, response_types_map=response_types_map)
        api_client.response_deserialize = objects_only

    def _at(self) -> str:
        """` at <server>` for a line about the API server, "" when the client names none."""
        return f" at {printable(shown_url(self.server))}" if self.server else ""

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as error:
            if error.status == 404:
                problem = not_a_status(error)
                if problem:
                    raise ClusterError(f"the API server{self._at()} answered 404 with {problem} where the API server "
                                       f"answers a Status: is the kubeconfig's server the cluster's API server?") \
                        from None
                return None
            if error.status == 403:
                raise ClusterError(forbidden_text(error, fn, args)) from None
            reason = (error.reason or "").strip()
            if error.status == 401:  # the credentials are no user's (expired, another cluster's): a new login is
                # the remedy, which the bare status did not say
                raise ClusterError(f"the API server{self._at()} answered 401 {reason}: it took the kubeconfig's "
                                   f"credentials for no user (expired, or another cluster's); log in again, or export "
                                   f"the stack's kubeconfig again (docs/operations.md, \"Reaching the cluster "
                                   f"(kubelogin)\")") from None
            raise ClusterError(f"the API server answered {error.status} {reason}".rstrip()) from None
        except (HTTPError, OSError) as error:
            at = self._at()
            if timed_out(error):
                raise ClusterError(f"no answer from the API server{at} within {self.timeout:g} s (--kube-timeout)") \
                    from None
            raise ClusterError(f"cannot reach the API server{at}: {unreachable_reason(error)}") from None
        except (ValueError, RecursionError) as error:  # an answer the client's models refuse (pydantic's errors
            # are ValueErrors), or one nested too deeply for Python's JSON decoder
            raise ClusterError(f"the API server's answer did not parse: {str(error).splitlines()[0][:160]}") from None

    def get(self, path: str, **query: str) -> Any:
        """GET a path the typed APIs have no method for (an aggregated API such as custom.metrics.k8s.io), as a
        dict; None on 404, like call."""
        api = self.custom.api_client

        def fetch(_request_timeout: float) -> Any:
            request = api.param_serialize("GET", path, query_params=list(query.items()),
                                          header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
            response = api.call_api(*request, _request_timeout=_request_timeout)
            response.read()
            return api.response_deserialize(response, {"200": "object"}).data
        fetch.__name__ = f"GET {path}"  # what a 403 without a Status message names
        return self.call(fetch)


def not_an_object(body: bytes, kind: str) -> Optional[str]:
    """What a 2xx body of content type `kind` is when it is not a JSON object, for a FAIL line (its start, printable);
    None when it is one."""
    if not body.strip():
        return f"an empty body ({kind})"
    try:
        data = parse_json(body)
    except JsonTooDeep:
        return f"JSON nested too deeply to parse ({kind})"
    except ValueError:
        snippet = " ".join(body[:80].decode("utf-8", "replace").split())
        return f"a body that is not JSON ({kind}): {printable(repr(snippet))}"
    if not isinstance(data, dict):
        return f"JSON that is not an object ({kind}): {printable(excerpt(data, 80))}"
    if not {"apiVersion", "kind", "metadata"} & data.keys():
        # the API server's every answer to a GET, an object or a list, carries all three (apimachinery's TypeMeta,
        # which its serializer writes, and ObjectMeta or ListMeta): an object with none is another service's (a
        # health or data endpoint), which the checks read as an object without status ("models is not bound")
        return (f"JSON that is not a Kubernetes object, no apiVersion, kind or metadata ({kind}): "
                f"{printable(excerpt(data, 80))}")
    return None


def not_a_status(error: Any) -> Optional[str]:
    """What a 404 answer is when it is not the API server's: the API server answers a path it does not serve, and an
    object that does not exist, with a Status (kind Status, reason NotFound: kubernetes/kubernetes 20cc31b2
    staging/src/k8s.io/apiserver/pkg/util/notfoundhandler/not_found_handler.go at the end of its handler chain,
    apimachinery errors.NewNotFound for an object); a 404 page of a web server or a proxy is not one. None for a
    Status."""
    raw = error.body if isinstance(error.body, (bytes, str)) else b""
    body = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    kind = (error.headers or {}).get("content-type") or "no content type"  # urllib3's headers: any case
    problem = not_an_object(body, kind)
    if problem:
        return problem
    data = parse_json(body)
    if data.get("kind") != "Status":
        return f"JSON that is not a Kubernetes Status ({kind}): {printable(excerpt(data, 80))}"
    return None


def status_message(error: Any) -> str:
    """The message of the Status body the API server answers an error with, in one line ("" without one)."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(message.split())[:300] if isinstance(message, str) else ""


def forbidden_text(error: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """A 403: the kubeconfig's user lacks RBAC for what the check reads. The API server's Status message names the
    permission (`pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "x"`:
    k8s.io/apiserver `responsewriters.ForbiddenStatusError`, apimachinery `errors.NewForbidden`); without one, the
    request the check made."""
    asked = status_message(error) or (f"{getattr(fn, '__name__', 'the request')}"
                                      f"{' ' + ' '.join(map(str, args)) if args else ''} is forbidden")
    return (f"the API server refused (403 Forbidden): {asked} (the kubeconfig's user needs that RBAC permission, "
            f"or use a kubeconfig that has it)")


def timed_out(error: BaseException) -> bool:
    """Whether a call failed for its timeout: urllib3's ReadTimeoutError or ConnectTimeoutError (the cause of its
    MaxRetryError), or the socket's own TimeoutError; not NewConnectionError, a refused or unroutable connection,
    which urllib3 2.8.0 derives from ConnectTimeoutError (exceptions.py)."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
    cause = getattr(error, "reason", None) or error
    return isinstance(cause, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)) \
        and not isinstance(cause, NewConnectionError)


def unreachable_reason(error: BaseException) -> str:
    """Why a connection failed, in one line: urllib3's MaxRetryError wraps the cause with the pool's repr and the
    request path; the cause's last clause ("[Errno 111] Connection refused", "timed out") is what a user needs."""
    malformed = malformed_answer(error)  # another protocol on the port: http.client's words, as the smoke test's
    if malformed:
        return f"it answered with a malformed HTTP response ({malformed})"
    cause = getattr(error, "reason", None) or error
    text = re.sub(r"<[^>]* object at 0x[0-9a-f]+>:?\s*", "", str(cause)).strip(" ()'\"")
    return (text.rsplit(": ", 1)[-1] if ": " in text else text)[:160] or type(cause).__name__


class _LoginErrors(logging.Handler):
    """The errors the Kubernetes client logs while it loads a kubeconfig: it runs a user's exec plugin (the stack's
    kubeconfig logs in with `kubelogin get-token`) and, when the plugin is missing or fails, only logs the reason
    with `logging.error` and goes on without credentials (kubernetes-client/python 37.0.2 config/kube_config.py
    `_load_from_exec_plugin`). That printed `ERROR:root:[Errno 2] No such file or directory: 'kubelogin'`, set up
    the root logger (urllib3's retries printed after it) and every check then failed as 401 Unauthorized."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def kube_client(kubeconfig: Optional[str], outputs: dict[str, Any]) -> Any:
    """An ApiClient from --kubeconfig, else the stack's kubeconfig output; a login that fails while it loads (the
    exec plugin) is a ClusterError saying why, and so is a later one that renews its credentials."""
    with _login_named(), _login_bounded():
        client = _loaded(kubeconfig, outputs)
    _renewal_bounded(client.configuration)
    problem = server_problem(str(getattr(getattr(client, "configuration", None), "host", "") or ""))
    if problem:
        raise ClusterError(f"the kubeconfig is not usable: {problem}")
    # its connections pass interim answers over, as the tools' own do: http.client passes over 100 Continue only
    # (CPython 3.11 Lib/http/client.py `HTTPResponse.begin`), under urllib3 2.8.0 (connection.py `getresponse`), and
    # the client's pool manager (kubernetes-client/python 37.0.2 rest.py) took a proxy's or a CDN's 103 Early Hints
    # for the answer ("the API server answered 103 Early Hints"), the final one left for the next call to misread
    own_connections(getattr(getattr(client, "rest_client", None), "pool_manager", None))
    return client


@contextlib.contextmanager
def _login_named() -> Iterator[None]:
    """A ClusterError naming the first error the client logged while it logged in (_LoginErrors)."""
    errors = _LoginErrors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        yield
    finally:
        root.removeHandler(errors)
    if errors.messages:
        # the client's or the bound's words about a plugin's stderr (_said_why) fit
        why = printable(" ".join(errors.messages[0].split())[:PLUGIN_STDERR_SHOWN + 200])
        raise ClusterError(f"the kubeconfig's login failed: {why} (its exec plugin, kubelogin for the stack's "
                           f"kubeconfig: on PATH and logged in? docs/operations.md, \"Reaching the cluster "
                           f"(kubelogin)\")")


def _renewal_bounded(configuration: Any, failed: Optional[list[ClusterError]] = None) -> None:
    """The client runs the exec plugin again, from the request that finds its credentials expired (kube_config.py
    `_set_config`'s `refresh_api_key_hook`, called by Configuration.get_api_key_with_prefix; expired is within 5 min
    of the plugin's expirationTimestamp), outside the load's bound: that run is bounded and named as the first. The
    client's hook sets a new hook of its own each time it runs, so each is wrapped again. A renewal is run once: the
    credentials stay expired after a failed one, and every later request ran the plugin anew and waited out the
    bound again (LOGIN_TIMEOUT_S a check). A failure before the credentials' expirationTimestamp keeps them, as
    kubectl would (client-go asks the plugin only once they have expired: _still_valid), said once on stderr; from
    then on, or when it failed after it, each check fails at once with its words."""
    renew = getattr(configuration, "refresh_api_key_hook", None)
    if renew is None:
        return
    failures = [] if failed is None else failed

    def bounded(config: Any) -> None:
        held_until = _held_until(renew)
        if failures:
            if _still_valid(held_until):
                return
            raise ClusterError(str(failures[0]))
        try:
            with _login_named(), _login_bounded():
                renew(config)
        except ClusterError as error:
            failures.append(error)
            if not _still_valid(held_until):
                raise
            print(f"note: renewing the kubeconfig's credentials failed ({error}); the ones it holds are valid until "
                  f"{held_until:%Y-%m-%dT%H:%M:%SZ} and are used until then", file=sys.stderr)
        finally:
            _renewal_bounded(config, failures)
    configuration.refresh_api_key_hook = bounded


def _held_until(hook: Callable[[Any], None]) -> Optional[datetime]:
    """When the credentials the client holds expire: the plugin's status.expirationTimestamp, which the client keeps
    as the `expiry` of the KubeConfigLoader its hook closes over (kube_config.py `_set_config`'s `_refresh_api_key`,
    `self`); None where the hook is not the client's (the credentials then count as expired)."""
    try:
        loader = inspect.getclosurevars(hook).nonlocals.get("self")
    except TypeError:
        return None
    expiry = getattr(loader, "expiry", None)
    return expiry if isinstance(expiry, datetime) and expiry.tzinfo is not None else None


def _still_valid(expiry: Optional[datetime]) -> bool:
    """Whether credentials expiring then may still be sent: client-go sends its cached credentials until that instant
    and asks the plugin only after it (kubernetes/client-go 32ce75a7 plugin/pkg/client/auth/exec/exec.go `getCreds`,
    `credsExpired`); the Python client asks it 5 minutes before (kube_config.py EXPIRY_SKEW_PREVENTION_DELAY)."""
    return expiry is not None and datetime.now(timezone.utc) < expiry


def _loaded(kubeconfig: Optional[str], outputs: dict[str, Any]) -> Any:
    """The Kubernetes client's ApiClient of the kubeconfig file, else of the stack's output; ClusterError when the
    kubeconfig cannot be one."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException
    try:
        if kubeconfig:
            a_mapping(read_kubeconfig(kubeconfig))  # the loader reads it again, resolving its relative paths
            return config.new_client_from_config(config_file=kubeconfig, client_configuration=one_request())
        text = outputs.get("kubeconfig")
        if not text:
            raise ClusterError("no kubeconfig: the stack has no kubeconfig output; pass --kubeconfig")
        return config.new_client_from_config_dict(a_mapping(yaml.safe_load(text)), client_configuration=one_request())
    except yaml.YAMLError as error:
        raise ClusterError(f"the kubeconfig is not usable: {yaml_problem(error)}") from None
    except (ConfigException, OSError, TypeError, ValueError) as error:
        raise ClusterError(f"the kubeconfig is not usable: {(str(error).splitlines() or [''])[0][:200]}") from None


class _LoginPlugin(subprocess.Popen):
    """The kubeconfig's exec plugin's process as the client runs it (kubernetes-client/python 37.0.2
    config/exec_provider.py `run`: `communicate()`, then its exit code and `json.loads` of its output), its output
    checked first: an output the client cannot read is said plainly (_credential_problem), and a failing plugin's
    stderr, which the client puts whole in its message, is cut to the part that says why (_said_why)."""

    def communicate(self, input: Any = None, timeout: Optional[float] = None) -> Any:  # noqa: A002 (Popen's name)
        stdout, stderr = self._output(input, timeout)
        if self.returncode:
            return stdout, _said_why(stderr, self.stderr_lines_dropped) if stderr else stderr
        problem = _credential_problem(stdout or "")
        if problem:
            raise ValueError(problem)
        return stdout, stderr

    stderr_lines_dropped = 0  # lines of its stderr not kept (_UnseenLoginPlugin._read)

    def _output(self, input: Any, timeout: Optional[float]) -> Any:  # noqa: A002 (Popen's name)
        return super().communicate(input, timeout)


class _UnseenLoginPlugin(_LoginPlugin):
    """The plugin when its prompt is not shown (the output is no terminal), waited for at most LOGIN_TIMEOUT_S, then
    stopped with every process it started: it runs in a session of its own (a process group led by it), so that a
    wrapper script's az or kubelogin, which would run on and could hold the plugin's pipes open, is killed with it.
    Ctrl-C stops them too: the terminal's SIGINT reaches its own foreground group only (the client's communicate()
    waits a quarter second on it and leaves the plugin running), and so do the signals that end llm-verify without
    a word (ENDING_SIGNALS: _killed_with_us). A session, not a group in llm-verify's session: a background group
    that reads the terminal (stdin is the caller's here) is stopped by it (SIGTTIN); a process of another session
    has no controlling terminal and reads it as a file. Only where llm-verify is not in a terminal's foreground
    (_in_a_terminals_foreground): there, a session of its own would take /dev/tty from a plugin that asks through it.
    Windows has neither: its plugin runs under `cmd.exe` (exec_provider.py `shell`), and only that is killed. Its
    output is read within bounds (_read)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # with a person at a terminal (`llm-verify > log` on one), the plugin keeps llm-verify's group and session:
        # a plugin that asks through /dev/tty (Python's getpass) finds no terminal in a session of its own, and
        # Ctrl-C reaches it with llm-verify; the bound kills it and the processes it started in the group
        self._own_session = not _in_a_terminals_foreground()
        super().__init__(*args, **{**kwargs, "start_new_session": self._own_session})

    def _output(self, input: Any, timeout: Optional[float]) -> Any:  # noqa: A002 (Popen's name)
        try:
            with self._killed_with_us():
                return self._read(LOGIN_TIMEOUT_S if timeout is None else timeout)
        except subprocess.TimeoutExpired as expired:
            self._stop()
            if os.name != "nt" and self.returncode != -signal.SIGKILL:  # it had ended before the bound's kill
                raise TimeoutError(f"exec: the plugin ended (exit code {self.returncode}), but a process it left "
                                   f"running (a daemon?) held its output open until the {LOGIN_TIMEOUT_S:g} s "
                                   f"bound") from None
            said = _said_why(expired.stderr.decode(errors="replace"), self.stderr_lines_dropped) \
                if expired.stderr else ""
            raise TimeoutError(f"exec: no credentials from the plugin within {LOGIN_TIMEOUT_S:g} s (a login it "
                               f"asks for is not shown when the output is no terminal)"
                               f"{'; it said: ' + said if said else ''}") from None
        except BaseException:
            self._stop()
            raise

    def _read(self, timeout: float) -> tuple[str, str]:
        """Its stdout and stderr, as Popen.communicate() reads them (CPython 3.11 Lib/subprocess.py POSIX
        `_communicate`: a selector, os.read, `_translate_newlines`), but not without bound: communicate() keeps all
        a plugin prints, and one printing noise for the 120 s held gigabytes (4 GB after 3 s here). Of stdout, up to
        CREDENTIAL_MAX_BYTES; of stderr, its last STDERR_KEPT_BYTES (the lines before are counted). Windows pipes
        cannot be selected: there communicate() reads them."""
        if os.name == "nt":
            return super()._output(None, timeout)
        deadline = time.monotonic() + timeout
        out, err = bytearray(), bytearray()
        with selectors.DefaultSelector() as selector:
            for pipe in (self.stdout, self.stderr):
                if pipe:
                    selector.register(pipe.fileno(), selectors.EVENT_READ, pipe is self.stdout)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(self.args, timeout, stderr=bytes(err))
                for key, _ in selector.select(left):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fd)
                    elif key.data:
                        out += chunk
                        if len(out) > CREDENTIAL_MAX_BYTES:
                            raise ValueError(f"exec: the plugin's output passed {CREDENTIAL_MAX_BYTES:,} bytes, more "
                                             f"than any ExecCredential (a token, or a certificate and its key)")
                    else:
                        err += chunk
                        self._keep_the_end_of(err)
        self.wait(max(deadline - time.monotonic(), 0))  # its pipes closed, it may run on: TimeoutExpired
        self._close_pipes()
        # its stderr is only quoted: a byte that is no character (the cut above may fall inside one) is replaced
        return self._text(out, self.stdout), self._text(err, self.stderr, "replace")

    def _keep_the_end_of(self, err: bytearray) -> None:
        """Drop all but the last STDERR_KEPT_BYTES of `err` once it holds twice as much, counting the lines."""
        if len(err) > 2 * STDERR_KEPT_BYTES:
            self.stderr_lines_dropped += err.count(b"\n", 0, len(err) - STDERR_KEPT_BYTES)
            del err[:len(err) - STDERR_KEPT_BYTES]

    def _text(self, data: bytearray, pipe: Any, errors: Optional[str] = None) -> str:
        if not pipe:
            return ""
        return self._translate_newlines(bytes(data), pipe.encoding, errors or pipe.errors)  # type: ignore

    @contextlib.contextmanager
    def _killed_with_us(self) -> Iterator[None]:
        """While it runs, a signal of ENDING_SIGNALS whose action is the default kills the plugin's group, then ends
        llm-verify by that action, as before (no line printed, the status of a process the signal ended). Without it
        `timeout 60 llm-verify` or a closed terminal left the plugin and its children running, unbounded. A handler
        of the caller's own is left as it is; signal handlers are the main thread's (CPython `signal.signal`)."""
        if os.name == "nt" or threading.current_thread() is not threading.main_thread():
            yield
            return

        def ended(signum: int, frame: Any) -> None:
            self._kill_group()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        taken = [number for number in (getattr(signal, name) for name in ENDING_SIGNALS)
                 if signal.getsignal(number) == signal.SIG_DFL]
        for number in taken:
            signal.signal(number, ended)
        try:
            yield
        finally:
            for number in taken:
                signal.signal(number, signal.SIG_DFL)

    def _kill_group(self) -> None:
        if not self._own_session:  # llm-verify's own group: the plugin and the processes it started in it
            for pid in (self.pid, *_descendants_in_our_group(self.pid)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:  # it has ended
                    pass
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (AttributeError, OSError):  # Windows has no killpg; the group is gone
            self.kill()

    def _stop(self) -> None:
        """The plugin's group killed, the plugin reaped and its pipes closed, not read to their end: a process that
        left the group (a daemon of its own session) would keep them open as long as it runs."""
        self._kill_group()
        self.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.stdout, self.stderr):
            if pipe:
                pipe.close()


def _said_why(stderr: str, dropped_lines: int = 0) -> str:
    """The part of a failing plugin's stderr that says why, in one line of at most PLUGIN_STDERR_SHOWN characters:
    its error lines, else its last lines, the last kept first (what failed last is printed last); a line too long
    keeps its start and its end; lines left out are counted. The client put the whole stderr in its message, and a
    plugin may print megabytes (kubelogin's `-v 10` logs each request it makes). `dropped_lines`: lines before
    `stderr` that were not kept (_UnseenLoginPlugin._read)."""
    lines = [line for line in (" ".join(raw.split()) for raw in stderr.splitlines()) if line]
    said = [line for line in lines if _ERROR_LINE.match(line)] or lines
    shown: list[str] = []
    room = PLUGIN_STDERR_SHOWN
    for line in reversed(said):
        if shown and len(line) + 3 > room:
            break
        shown.insert(0, _clipped(line, room))
        room -= len(shown[0]) + 3
    text = " | ".join(shown)
    total = len(lines) + dropped_lines
    return text if len(shown) == total else f"{text} [{len(shown)} of its {total:,} stderr lines]"


def _clipped(line: str, room: int) -> str:
    """`line` within `room` characters: its start and its end about ' ... '."""
    if len(line) <= room:
        return line
    half = (room - 5) // 2
    return f"{line[:half]} ... {line[-half:]}"


def _credential_problem(output: str) -> Optional[str]:
    """Why a plugin's output (it exited 0) is no ExecCredential object the client can read, where the client said it
    in Python's words ("Expecting value: line 1 column 1 (char 0)", "argument of type 'NoneType' is not iterable"),
    None when it can read it (its own words follow where it is not one: no apiVersion, kind or status, another
    apiVersion, no token). The output is never quoted: it is where the token is."""
    if not output.strip():
        return "exec: the plugin printed nothing (its ExecCredential, JSON, belongs on its standard output)"
    try:
        credential = parse_json(output)
    except ValueError:
        return (f"exec: the plugin's output is not JSON ({len(output):,} characters; its ExecCredential, JSON, "
                f"belongs there)")
    if not isinstance(credential, dict):
        return f"exec: the plugin's output is {_json_kind(credential)} (JSON), not an ExecCredential object"
    status = credential.get("status", {})
    if not isinstance(status, dict):
        return (f"exec: the plugin's ExecCredential has a status that is {_json_kind(status)}, not an object (with "
                f"its token)")
    return _expiry_problem(status.get("expirationTimestamp"))


def _expiry_problem(expiry: Any) -> Optional[str]:
    """Why a credential's expirationTimestamp is not a time the client reads (kube_config.py parses it with
    dateutil.py `parse_rfc3339`, whose error names neither the field nor the plugin), None when it is one or absent."""
    from kubernetes.config.dateutil import parse_rfc3339
    if expiry is None:
        return None
    try:
        parse_rfc3339(expiry)
        return None
    except (AttributeError, TypeError, ValueError):  # a number has no .strip()
        return (f"exec: the plugin's status.expirationTimestamp is not an RFC 3339 time "
                f"(2026-12-07T17:00:00Z): {printable(repr(expiry)[:80])}")


def _json_kind(value: Any) -> str:
    return "null" if value is None else {bool: "true or false", str: "a string", list: "an array"}.get(
        type(value), "a number")


def _in_a_terminals_foreground() -> bool:
    """Whether llm-verify has a controlling terminal, which a plugin may open as /dev/tty, and is in its foreground
    process group (none in CI, cron, a pipeline's runner; none on Windows, which has no /dev/tty). In a background
    group (`llm-verify &`, or under GNU timeout, which takes a group of its own) a plugin that reads /dev/tty is
    stopped by the terminal (SIGTTIN) until the bound; in a session of its own it is told at once (tty(4))."""
    try:
        terminal = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(terminal) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(terminal)


def _descendants_in_our_group(pid: int) -> list[int]:
    """The processes `pid` started, theirs and so on, that are in llm-verify's process group, read from /proc
    (proc(5) `stat`: ppid and pgrp after the name's closing parenthesis; none where there is no /proc). Read before
    any is killed: an orphan's parent is no longer `pid`. One of another group (a daemon) is left, as killpg does."""
    children: dict[int, list[int]] = {}
    ours = os.getpgrp()
    group: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            child, parent = int(entry), int(fields[1])
            group[child] = int(fields[2])
        except (OSError, ValueError, IndexError):  # no process, or gone while read
            continue
        children.setdefault(parent, []).append(child)
    found, under = [], [pid]
    while under:
        for child in children.get(under.pop(), []):
            found.append(child)
            under.append(child)
    return [child for child in found if group[child] == ours]


@contextlib.contextmanager
def _login_bounded() -> Iterator[None]:
    """While the kubeconfig loads (or the client renews its credentials), its exec plugin runs as _LoginPlugin, its
    output checked, and its wait is bounded when the output is no terminal (_UnseenLoginPlugin). There the client
    pipes the plugin's stderr and leaves it the caller's stdin (exec_provider.py `run`, `is_interactive` is
    sys.stdout.isatty()): a plugin asking for a login (kubelogin's device code) asked no one, and llm-verify waited
    as long as the plugin did, without a word. On a terminal the prompt shows, and a person may take their time."""
    from kubernetes.config import exec_provider
    shown = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    checked = types.ModuleType("subprocess")
    checked.__dict__.update(vars(subprocess))
    checked.Popen = _LoginPlugin if shown else _UnseenLoginPlugin  # type: ignore[attr-defined]
    original, exec_provider.subprocess = exec_provider.subprocess, checked
    try:
        yield
    finally:
        exec_provider.subprocess = original


def read_kubeconfig(path: str) -> Any:
    """The YAML of a kubeconfig file; ClusterError naming the file when it cannot be read."""
    try:
        return yaml.safe_load(read_text(path))
    except OSError as error:
        raise ClusterError(f"the kubeconfig is not usable: cannot read {path}: {error.strerror or error}") from None


def a_mapping(loaded: Any) -> dict[str, Any]:
    """A kubeconfig's YAML, which must be a mapping: a list or a scalar failed inside the client's loader in Python's
    words ("list indices must be integers or slices, not str", "'str' object does not support item assignment")."""
    if loaded is None:
        raise ClusterError("the kubeconfig is not usable: it is empty")
    if not isinstance(loaded, dict):
        raise ClusterError(f"the kubeconfig is not usable: it is YAML of another shape ({type(loaded).__name__}), "
                           f"where a kubeconfig is a mapping of apiVersion, clusters, contexts, users and "
                           f"current-context")
    return loaded


def server_problem(server: str) -> Optional[str]:
    """Why the kubeconfig's API server URL cannot be asked (None when it can): none at all sent every call to no host
    (urllib3's FutureWarning on stderr, "cannot reach the API server: No host specified."), and a port out of range
    read "cannot reach the API server at URL: URL/api/v1/nodes?labelSelector=". The one URL rule, endpoint's."""
    if not server:
        return "its cluster names no server (clusters[].cluster.server): give the API server's https:// URL"
    return url_problem(server, "the API server's https:// URL, e.g. https://NAME.hcp.REGION.azmk8s.io:443")


class _DroppedConnectionRetried(Retry):
    """One more try of a call whose connection closed or reset before its answer, and of nothing else. A kept-alive
    connection the API server (or a load balancer before it) closed while idle is found when a call is sent on it:
    urllib3 checks a pooled connection before it reuses it (urllib3 2.8.0 connectionpool.py `_get_conn`,
    `is_connection_dropped`), but a close racing the request is a ProtocolError
    ("Remote end closed connection without response") that only a retry recovers (urllib3 2.8.0 util/retry.py
    counts it a read error, with read timeouts). A timeout is the call's answer, not retried (it took 4 times
    --kube-timeout); a status is never retried, nor its Retry-After slept."""

    def _is_read_error(self, err: Exception) -> bool:
        return isinstance(err, ProtocolError)  # not ReadTimeoutError: counted as `other`, none allowed


def one_request() -> Any:
    """The client's configuration: each call one request, held to --kube-timeout, but one sent on a connection
    closed under it (_DroppedConnectionRetried). Without `retries` the client's connections take urllib3's
    Retry.DEFAULT (kubernetes-client/python 37.0.2 rest.py passes retries to its PoolManager only when set): 3 more
    tries of a GET that timed out, each with the whole timeout, and a sleep of each 429's or 503's Retry-After
    however long (urllib3 2.8.0 util/retry.py `sleep_for_retry`), a date years ahead included; a Retry-After urllib3
    cannot read (`-5`) raised InvalidHeader, read as the server unreachable."""
    from kubernetes import client
    configuration = type.__call__(client.Configuration)  # as the client's loaders make one (no shared default)
    configuration.retries = _DroppedConnectionRetried(total=1, connect=0, read=1, redirect=0, status=0, other=0,
                                                      respect_retry_after_header=False)
    return configuration


def yaml_problem(error: yaml.YAMLError) -> str:
    """What PyYAML found wrong and where, in one line: its own message quotes the line it stopped at, which in a
    kubeconfig may hold a token or a key."""
    mark = getattr(error, "problem_mark", None)
    where = f", at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not YAML ({getattr(error, 'problem', None) or type(error).__name__}{where})"


def run_steps(steps: list[tuple[str, Callable[[], Check]]],
              shown: Callable[[Check], None] = lambda check: None) -> list[Check]:
    """Each step's Check, handed to `shown` as soon as it is made (llm-verify prints it then: a Ctrl-C, or a step
    waiting out its deadline, leaves the lines of the steps before it on the screen); a cluster that cannot be
    asked, or an answer the step cannot read (a custom resource or an aggregated API's item without the fields it
    reads), fails that step's line, and the next step still runs."""
    checks: list[Check] = []
    for name, step in steps:
        try:
            check = step()
        except ClusterError as error:
            check = Check(name, False, str(error))
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
            check = Check(name, False, f"an answer of the API server has an unexpected shape "
                                       f"({type(error).__name__}: {str(error)[:160]})")
        checks.append(check)
        shown(check)
    return checks


def allocatable(node: Any, resource: str) -> Decimal:
    """How much of `resource` the node offers: a Kubernetes quantity (the API server writes 1000 as `1k`)."""
    from kubernetes.utils import parse_quantity
    value = (node.status.allocatable or {}).get(resource, "0")
    try:
        return parse_quantity(value)
    except ValueError:
        raise ValueError(f"{resource} on {node.metadata.name} is {value!r}, not a quantity") from None


def allocatable_on_gpu_nodes(cluster: Cluster, selector: dict[str, str], name: str, resource: str, none: str,
                             not_ready: str, offered: str, none_ok: bool = False) -> Check:
    """Every node of the GPU selector offers at least one `resource`; no such node fails, unless `none_ok`."""
    nodes = cluster.call(cluster.core.list_node, label_selector=selector_text(selector)).items
    if not nodes:
        return Check(name, none_ok, none)
    counts = {n.metadata.name: allocatable(n, resource) for n in nodes}
    without = sorted(node for node, count in counts.items() if count < 1)
    if without:
        return Check(name, False, f"no allocatable {resource} on {', '.join(without)} ({not_ready})")
    return Check(name, True, offered.format(total=f"{sum(counts.values()):f}", nodes=len(counts)))


def check_gateways(cluster: Cluster, required_namespace: Optional[str] = None) -> Check:
    """Every Gateway programmed with an address; at least one (in `required_namespace` when given)."""
    found = cluster.call(cluster.custom.list_cluster_custom_object, *GATEWAY_API)
    gateways = (found or {}).get("items") or []
    if required_namespace and not any(g["metadata"]["namespace"] == required_namespace for g in gateways):
        return Check("gateways", False, f"no Gateway in {required_namespace} (the pool gateway)")
    if not gateways:
        return Check("gateways", False, "no Gateway in the cluster")
    bad = []
    for g in gateways:
        name = f"{g['metadata']['namespace']}/{g['metadata']['name']}"
        programmed = condition((g.get("status") or {}).get("conditions"), GATEWAY_PROGRAMMED)
        if not true_now(g, programmed):
            bad.append(f"{name} not programmed ({verdict_text(g, programmed)})")
        elif not (g.get("status") or {}).get("addresses"):
            bad.append(f"{name} has no address")
    if bad:
        return Check("gateways", False, "; ".join(bad))
    return Check("gateways", True, f"{len(gateways)} programmed, each with an address")


def check_deployment(cluster: Cluster, namespace: str, check: str, name: str, idle: Optional[str] = None) -> Check:
    """At least one replica ready; `idle` (why none is wanted) lets a Deployment scaled to zero pass."""
    found = cluster.call(cluster.apps.read_namespaced_deployment, name, namespace)
    if found is None:
        return Check(check, False, f"Deployment {namespace}/{name} not found")
    ready, wanted = found.status.ready_replicas or 0, found.spec.replicas or 0
    if idle and wanted == 0:
        return Check(check, True, f"0 replicas: {idle}")
    if ready < 1:
        return Check(check, False, f"0 of {wanted} replica(s) ready")
    return Check(check, True, f"{ready} of {wanted} replica(s) ready")


@dataclass
class Gate:
    """The stack's API gate, from its outputs: where a smoke request goes, and the outputs that name it."""

    url: Optional[str]
    url_output: str  # the stack output the URL comes from, as the user's stack names it (verify_ollama.shown)
    key_output: Optional[str]  # the output naming the key's Key Vault secret, likewise; None: no key asked for
    model: Optional[str] = None  # None: the first model the gate lists
    key_option: tuple[str, str] = KEY_OPTION  # where llm-verify takes this gate's key from


def check_smoke(gate: Gate, api_key: Optional[str], timeout_s: float) -> Check:
    """One smoke request through the gate (the model list, a completion, a stream) and, with a key, a wrong key
    refused."""
    if not gate.url:
        return Check("smoke", False, f"stack output {gate.url_output} is empty")
    problem = url_problem(gate.url)
    if problem:
        return Check("smoke", False, f"stack output {gate.url_output}: {problem}")
    api_key, key_problem = clean_api_key(api_key)
    if key_problem:
        return Check("smoke", False, f"the API key ({gate.key_option[0]} or ${gate.key_option[1]}) {key_problem} "
                                     f"(the key itself is not shown)")
    if gate.key_output and not api_key:
        return Check("smoke", False, f"no API key: set {gate.key_option[1]} to the key in the Key Vault secret "
                                     f"the stack output {gate.key_output} names")
    client = LlmClient(gate.url, "openai", api_key, Deadlines(timeout_s), requests.Session())
    try:
        # a 401 on the model list says the key given was refused, naming this gate's option (none given: the gate
        # asks for none, by its outputs, or the check stopped above)
        checks = run_checks(client, gate.model, 16, auth=bool(gate.key_output), burst=0,
                            key_given=True if api_key else None, key_option=gate.key_option)
    except ApiError as error:
        return Check("smoke", False, failure_text(error))
    failed = [c for c in checks if not c.ok]
    detail = "; ".join(f"{c.name}: {c.detail}" for c in (failed or checks))
    return Check("smoke", not failed, f"{shown_url(gate.url)}: {detail}")
