"""The proxy the environment names (HTTPS_PROXY, NO_PROXY...): shown without its password, its secrets handed to
redact, and a failure reaching or through it told as the proxy's, not the endpoint's."""
import base64
import os
import re
from typing import Optional
from urllib.parse import unquote

import requests

from .api_errors import ApiError, printable, shown_url, wrapped_error


def _proxy_userinfo(proxy: str) -> tuple[str, str, Optional[str], str]:
    """A proxy URL's (scheme://, user, password or None, host and the rest), whatever its form: one written without
    its scheme (`user:password@proxy:3128`, which requests refuses as malformed) or with a space in its user name."""
    scheme, sep, rest = proxy.partition("://")
    prefix = scheme + sep if sep else ""
    rest = rest if sep else proxy
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return prefix, "", None, rest
    user, colon, password = userinfo.partition(":")
    return prefix, user, password if colon else None, host


def shown_proxy(proxy: str) -> str:
    """A proxy URL as the tools print it: its password starred in any form (shown_url stars only `//user:secret@`;
    `user:secret@proxy:3128` without a scheme kept it)."""
    prefix, user, password, host = _proxy_userinfo(proxy)
    if password is None:
        return shown_url(proxy)
    return f"{prefix}{user}:***@{host}"


def proxy_passwords() -> set[str]:
    """The secrets in the environment's proxy variables, for redact to star wherever a message quotes them: each
    password (4 characters or more, as a URL's) and the Basic credentials requests sends the proxy
    (Proxy-Authorization, base64 of the unquoted user:password: requests 2.34.2 adapters.py proxy_headers), which a
    proxy's error page may quote."""
    found = set()
    for proxy in requests.utils.getproxies().values():
        _, user, password, _ = _proxy_userinfo(proxy)
        if password:
            plain = f"{unquote(user)}:{unquote(password)}"
            found.add(base64.b64encode(plain.encode("latin1", "replace")).decode())
            if len(password) >= 4:
                found.add(password)
    return found


def environ_proxy(url: str) -> Optional[tuple[str, str]]:
    """The proxy requests sends a request to `url` through, from the environment, and the variable that names it
    (requests 2.34.2 utils.py: get_environ_proxies, which honours NO_PROXY, then select_proxy); None when none."""
    try:
        proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    except Exception:  # noqa: BLE001 - a URL requests cannot split has no proxy to name
        return None
    if not proxy:
        return None
    scheme = url.split("://", 1)[0].lower()
    names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY")
    return proxy, next((name for name in names if os.environ.get(name) == proxy), f"{scheme.upper()}_PROXY")


def proxy_error(error: BaseException, shown: str, url: str) -> ApiError:
    """A failure reaching or through the proxy the environment names (HTTPS_PROXY...): the proxy, not the endpoint,
    refused, did not resolve or would not open the tunnel; said so, naming the proxy (without its password) and
    NO_PROXY, which sends a host around it."""
    found = environ_proxy(url)
    proxy = (f"the proxy {shown_proxy(found[0])} (${found[1]}; hosts in $NO_PROXY are reached directly)" if found
             else "the proxy")
    cause = wrapped_error(error, OSError)
    reason = " ".join(str(cause or error).split())
    lowered = reason.lower()
    if "tunnel connection failed" in lowered:  # http.client's words for a CONNECT answered other than 200
        status = re.search(r"\b([1-5]\d\d)\b", reason)
        return ApiError("error", f"{proxy} refused to open a tunnel to {shown}: {printable(reason[:160])}"
                        + (f"; {_proxy_credentials(found)}" if found and status and status.group(1) == "407"
                           else ""), int(status.group(1)) if status else None)
    if "refused" in lowered:
        return ApiError("refused", f"connection refused by {proxy}, on the way to {shown}")
    if any(s in lowered for s in ("name or service not known", "nameresolution", "getaddrinfo",
                                  "nodename nor servname", "temporary failure in name resolution")):
        return ApiError("dns", f"cannot resolve the host of {proxy}, on the way to {shown}")
    if "timed out" in lowered or "timeout" in lowered:
        return ApiError("connect_timeout", f"no connection to {proxy}, on the way to {shown}")
    return ApiError("error", f"cannot reach {shown} through {proxy}: {printable(reason[:200])}")


def proxy_wants_credentials(url: str) -> str:
    """The hint for a 407 (Proxy Authentication Required), which a proxy answers for a plain-HTTP request."""
    found = environ_proxy(url)
    if not found:
        return "; 407 is a proxy's answer: a proxy in between wants credentials"
    return f"; 407 is the answer of the proxy {shown_proxy(found[0])} (${found[1]}): {_proxy_credentials(found)}"


def _proxy_credentials(found: tuple[str, str]) -> str:
    """What to do about a proxy's 407, by whether its URL holds credentials (never quoted)."""
    proxy, name = found
    if "@" in proxy.split("://", 1)[-1]:
        return f"it refused the user and password in ${name}"
    return (f"it wants a user and password, written user:password@ before the proxy's host in ${name} (or the "
            f"endpoint's host in $NO_PROXY to go around it)")
