"""Where the tools send requests: an explicit URL, or a stack output read with the Pulumi CLI when it is present;
and how they read a file the user gives."""
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import requests

# shown_url lives with the messages it guards; named here too
from .api_errors import MAX_BODY_BYTES, excerpt, parse_json, shown_url


class EndpointError(Exception):
    pass


URL_INSTEAD = "the endpoint URL instead (e.g. http://localhost:11434 after `kubectl port-forward`)"
URL_ALLOWED = "an http:// or https:// URL with a host, e.g. http://localhost:11434"


def url_problem(url: str, allowed: str = URL_ALLOWED) -> Optional[str]:
    """Why `url` cannot be an endpoint's base URL (None when it can): the one rule for every tool's URL, so `foo`,
    `localhost:8080` or `ftp://x` is bad usage, not a DNS or connection failure. The URL is quoted without its
    password (shown_url)."""
    if any(c.isspace() for c in url):  # first: a pasted URL's trailing space is no bad port
        return f"{shown_url(url)!r} contains whitespace: give {allowed}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # an unclosed [IPv6 address, a port that is no number or above 65535
        return invalid(url, error, allowed)
    if "://" not in url or parts.scheme not in ("http", "https"):
        problem = "does not start with http:// or https://"
    elif not parts.hostname:
        problem = "has no host"
    elif port == 0:
        problem = "has port 0"
    elif parts.query or parts.fragment or url.endswith(("?", "#")):
        problem = "has a query or fragment (the tools add the API paths to a base URL)"
    else:
        return unsendable(url, parts.hostname, allowed)
    return f"{shown_url(url)!r} {problem}: give {allowed}"


def invalid(url: str, error: object, allowed: str = URL_ALLOWED) -> str:
    """`url` is no valid URL, with the parser's reason (its last clause) unless the URL holds credentials, which
    the parser's words may quote a piece of."""
    why = "" if "@" in url else f" ({str(error).splitlines()[0].rsplit(': ', 1)[-1].strip()})"
    return f"{shown_url(url)!r} is not a valid URL{why}: give {allowed}"


def unsendable(url: str, hostname: str, allowed: str = URL_ALLOWED) -> Optional[str]:
    """Why requests could not send to a URL that parses (None when it can): a host with a control character, a name
    IDNA refuses, text after `[::1]`, or a label no DNS name can have (empty, over 63 characters)."""
    try:
        requests.PreparedRequest().prepare_url(url + "/v1/models", None)
    except (ValueError, requests.RequestException) as error:  # LocationParseError is a ValueError
        return invalid(url, error, allowed)
    try:
        if hostname.isascii() and ":" not in hostname:  # an IPv6 address has no DNS labels
            hostname.encode("idna")  # what the socket layer does to the name before resolving it
    except UnicodeError:
        return invalid(url, "a label of its host is empty or longer than 63 characters", allowed)
    return None


def without_v1(url: str) -> Optional[str]:
    """The server's base URL when `url` is what OpenAI clients call the base URL, ending in `/v1` (the tools add the
    API paths, `/v1/models` or `/api/tags`, themselves: `http://host/v1` would ask for `/v1/v1/models`); None when
    `url` does not end in `/v1`."""
    trimmed = url.rstrip("/")
    return trimmed[: -len("/v1")] if trimmed.endswith("/v1") else None


def stack_outputs(stack: Optional[str] = None, secrets: bool = False, instead: str = URL_INSTEAD) -> dict[str, Any]:
    """The stack's outputs as `pulumi stack output --json` prints them (secrets in clear only when asked);
    `instead` says what the caller's user can pass instead when there is no Pulumi CLI ("the endpoint URL instead")."""
    if shutil.which("pulumi") is None:
        raise EndpointError(f"the Pulumi CLI is not on PATH; pass {instead}")
    command = (["pulumi", "stack", "output", "--json"] + (["--show-secrets"] if secrets else [])
               + (["--stack", stack] if stack else []))
    try:
        # errors="replace": bytes that are not UTF-8 make the output no JSON object, named below, not a traceback
        done = subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace", timeout=60,
                              check=False)
    except subprocess.TimeoutExpired:
        raise EndpointError("`pulumi stack output` did not answer within 60 s") from None
    except OSError as error:
        raise EndpointError(f"cannot run the Pulumi CLI: {error}") from None
    if done.returncode != 0:
        said = done.stderr.strip()[:300]
        how = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        raise EndpointError(f"`pulumi stack output` failed: {said}" if said else
                            f"`pulumi stack output` failed ({how})")
    try:
        outputs = parse_json(done.stdout or "{}")
    except ValueError:
        outputs = None
    if not isinstance(outputs, dict):  # with --show-secrets not quoted: a key or a kubeconfig may be in it
        raise EndpointError("`pulumi stack output --json` printed something that is not a JSON object"
                            + ("" if secrets else f": {(done.stdout or '')[:120]!r}"))
    return outputs


def from_stack_output(output: str, stack: Optional[str] = None) -> str:
    outputs = stack_outputs(stack)
    if not outputs.get(output):
        raise EndpointError(f"stack output {output!r} is empty or missing; outputs: {', '.join(sorted(outputs))}")
    value = outputs[output]
    if not isinstance(value, str):  # a number or true would become http://5 or http://True
        raise EndpointError(f"stack output {output!r} is {excerpt(value)}: expected text (the endpoint's URL)")
    if value == "[secret]":  # how `pulumi stack output --json` prints a secret without --show-secrets
        raise EndpointError(f"stack output {output!r} is a secret: pass the URL itself (`pulumi stack output "
                            f"{output} --show-secrets`)")
    value = value if "://" in value else f"http://{value}"  # an output holding an address without a scheme
    problem = url_problem(value)
    if problem:
        raise EndpointError(f"stack output {output!r}: {problem}")
    return value


def resolve(url: Optional[str], stack_output: Optional[str], stack: Optional[str]) -> str:
    if url:
        problem = url_problem(url)
        if problem:
            raise EndpointError(problem)
        return url
    if stack_output:
        return from_stack_output(stack_output, stack)
    raise EndpointError("give an endpoint URL or --stack-output NAME")


def file_problem(path: str) -> Optional[str]:
    """Why `path` cannot be read as a file the user gives (llm-verify's outputs or kubeconfig, llm-bench --compare's
    results; None when it can): a pipe is one (`--outputs <(pulumi stack output --json --show-secrets)` writes no
    secret to disk, /dev/stdin), a device is not (/dev/zero never ends)."""
    found = Path(path)
    try:
        if found.is_dir():
            return "is a folder, not a file"
        if not found.exists():
            return "no such file"
        return None if found.is_file() or found.is_fifo() else "is not a file or a pipe"
    except OSError as error:  # a name the system refuses (over 255 bytes), a folder it may not look in
        return error.strerror or str(error)


def read_text(path: str, limit: int = MAX_BODY_BYTES) -> str:
    """A file's text, at most `limit` bytes of it (a pipe may never end); ValueError when larger or not UTF-8."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit // 2**20} MiB")
    return data.decode("utf-8")
