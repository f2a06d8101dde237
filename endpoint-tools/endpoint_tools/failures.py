"""A requests/urllib3 failure told as an `ApiError` a person can act on: its kind, the URL as shown, and the TLS
or proxy advice that fits it."""
import os
import re
import ssl
import sys
from typing import Optional

import requests
from urllib3.exceptions import ReadTimeoutError

from .api_errors import (CONNECT_TIMEOUT_S, ApiError, Deadlines, malformed_answer, printable, timeout_error, where,
                         wrapped_error)
from .proxies import environ_proxy, proxy_error, shown_proxy


def describe_exception(error: BaseException, url: str, phase: str = "headers",
                       deadlines: Optional[Deadlines] = None, final_url: Optional[str] = None) -> ApiError:
    """Turn a requests/urllib3 failure at `url` (as asked for; `final_url`, where a redirect led, when the error does
    not say) into a named kind and one line a person can act on (redacted: an exception's text may quote a header
    or the URL). `phase`: what was awaited, `connect` (the request not sent yet), `headers`, `ttft` or `total`."""
    if isinstance(error, ApiError):
        return error
    asked = url
    url = where(url, getattr(getattr(error, "request", None), "url", None) or final_url)
    text = str(error)
    first_line = text.splitlines()[0][:200] if text else type(error).__name__
    if isinstance(error, requests.exceptions.ProxyError):  # before ConnectionError, of which it is one
        return proxy_error(error, url, getattr(getattr(error, "request", None), "url", None) or final_url or asked)
    if isinstance(error, (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL)) \
            and ("proxy" in text.lower() or "socks" in text.lower()):
        found = environ_proxy(getattr(getattr(error, "request", None), "url", None) or final_url or asked)
        if found:  # a proxy variable requests cannot use: SOCKS without PySocks, a scheme it does not speak
            return ApiError("error", f"cannot use the proxy {shown_proxy(found[0])} (${found[1]}) for {url}: "
                                     f"{printable(first_line.rstrip('.'))}" + ("; SOCKS needs PySocks (pip install "
                                                                  "\"requests[socks]\") beside the tools"
                                                                  if "socks" in text.lower() else ""))
    if isinstance(error, requests.exceptions.SSLError):
        cause = wrapped_error(error, ssl.SSLError, ssl.CertificateError)  # the TLS library's reason, not urllib3's pool
        reason = str(cause)[:200] if cause else first_line
        return ApiError("tls", f"TLS error talking to {url}: {reason}{tls_hint(cause, reason, url)}")
    if not isinstance(error, requests.RequestException) and isinstance(error, OSError) \
            and "CA certificate bundle" in text:
        # requests' adapter checks the bundle path before connecting, an OSError of its own (requests 2.34.2
        # adapters.py cert_verify): REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE naming a file that is not there
        return ApiError("tls", f"cannot check the certificate of {url}: {_ca_bundle() or 'the CA bundle'} is no "
                               f"file or folder of "
                               f"certificates; set it to a PEM file, or unset it for the system's CAs")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return connect_timeout(f"no connection to {url}", deadlines)
    if _handshake_timed_out(error):
        return connect_timeout(f"no TLS handshake with {url}", deadlines,
                               ": the port takes connections but does not answer TLS (a load balancer without a "
                               "healthy backend, or a server that waits for the client to speak first)")
    tunnel = environ_proxy(asked) if phase == "connect" and url.lower().startswith("https://") else None
    if tunnel and (isinstance(error, requests.exceptions.Timeout) or wrapped_error(error, ReadTimeoutError)):
        # a read that timed out before the request went out, through a proxy: its answer to CONNECT never came
        return connect_timeout(f"no tunnel to {url} through the proxy {shown_proxy(tunnel[0])} (${tunnel[1]})",
                               deadlines, ": it took the connection but did not answer the tunnel's CONNECT (hosts "
                                          "in $NO_PROXY are reached directly)")
    # requests raises a read that timed out in the body as a ConnectionError wrapping urllib3's ReadTimeoutError
    # (requests 2.34.2 models.py iter_content): the socket's timeout is the rest of the total deadline (extend_reads),
    # so it is that deadline passing, when the alarm thread comes late (a busy machine), not "cannot talk to"
    if isinstance(error, requests.exceptions.Timeout) or wrapped_error(error, ReadTimeoutError):
        kind = "timeout_headers" if phase in ("connect", "headers") else "timeout_ttft" if phase == "ttft" \
            else "timeout_total"
        return timeout_error(kind, url, deadlines)
    if isinstance(error, requests.exceptions.ContentDecodingError):
        encoding = re.search(r"content-encoding: ([\w-]+)", text)  # urllib3's DecodeError names it
        return ApiError("error", f"{url} sent a body that does not decode as its Content-Encoding says "
                                 f"({encoding.group(1) if encoding else 'unknown'})")
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        # urllib3's InvalidChunkLength quotes the line it read for a chunk's length: empty when the connection ended
        # there, something else when the server wrote a chunk length that is no hex number (urllib3 2.8.0 response.py)
        length = re.search(r"InvalidChunkLength\(got length (b'[^']*'|b\"[^\"]*\")", text)
        if length and length.group(1) not in ("b''", 'b""'):
            return ApiError("error", f"{url} answered with a malformed HTTP response (a chunked body's chunk "
                                     f"length is {printable(length.group(1).replace(chr(92) * 2, chr(92))[:40])}, "
                                     f"no hex number)")
        return ApiError("closed", f"{url} closed the connection mid-response")
    if isinstance(error, requests.exceptions.ConnectionError):
        malformed = malformed_answer(error)
        if malformed:
            return ApiError("error", f"{url} answered with a malformed HTTP response ({malformed})")
        lowered = text.lower()
        if any(s in lowered for s in ("name or service not known", "nameresolution", "getaddrinfo",
                                      "nodename nor servname", "temporary failure in name resolution")):
            return ApiError("dns", f"cannot resolve the host of {url} (DNS)")
        if "refused" in lowered:
            return ApiError("refused", f"connection refused by {url} (is the port-forward or gateway up?)")
        if any(s in lowered for s in ("remotedisconnected", "aborted", "reset", "incompleteread", "broken pipe")):
            # a TLS listener (Istio's gateway on 443) closes a plain-HTTP request without a word
            hint = " (if it serves HTTPS, use https://)" if url.lower().startswith("http://") else ""
            return ApiError("closed", f"{url} closed the connection without a complete answer{hint}")
        cause = wrapped_error(error, OSError)  # the socket's own error, under urllib3's pool and retry text
        return ApiError("error", f"cannot talk to {url}: {str(cause)[:200] if cause else first_line}")
    return ApiError("error", f"{type(error).__name__} talking to {url}: {first_line}")


def connect_timeout(what: str, deadlines: Optional[Deadlines], why: str = "") -> ApiError:
    """`what` (no connection to URL) did not come within the connect timeout, or within the deadline that shortened
    it, named then (its flag gives it more time, up to CONNECT_TIMEOUT_S)."""
    if deadlines is None or deadlines.connect_s == CONNECT_TIMEOUT_S:
        return ApiError("connect_timeout", f"{what} within {CONNECT_TIMEOUT_S:g} s{why}")
    deadline = deadlines.first_token_name  # a deadline shorter than the connect timeout: the wait it allowed
    return ApiError("connect_timeout", f"{what} within {deadlines.connect_s:g} s (the "
                                       f"{deadline.replace('_', '-')} deadline){why}", deadline=deadline)


def _handshake_timed_out(error: BaseException) -> bool:
    """Whether `error` is a TLS handshake that timed out: urllib3 2.8.0 raises it as a ReadTimeoutError
    (connectionpool.py `_make_request`: `_validate_conn` connects, under the connect timeout, and `_raise_timeout`
    names it a read) over the ssl module's TimeoutError, "The handshake operation timed out" (CPython
    Modules/_ssl.c, the handshake's timeout)."""
    cause = wrapped_error(error, TimeoutError)
    return cause is not None and "handshake operation timed out" in str(cause)


# OpenSSL's verify codes (include/openssl/x509_vfy.h) that no CA bundle cures: the certificate does not name the host
# (urllib3 2 matches the subjectAltName only, never the subject's CN: urllib3 2.8.0 util/ssl_.py
# `hostname_checks_common_name = False`), or it is outside its validity dates. CPython's SSLCertVerificationError
# carries the code as `verify_code` (Modules/_ssl.c `fill_and_set_sslerror`, 3.7 and later).
_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_OUT_OF_DATES = (9, 10)  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED
# The codes that mean no CA given vouches for the chain, the only ones a CA bundle cures: UNABLE_TO_GET_ISSUER_CERT,
# DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
# UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_UNTRUSTED. Any other (a purpose the certificate is not for, a key too small,
# and on Python 3.13+ RFC 5280's rules that urllib3 2.8.0 enforces there with VERIFY_X509_STRICT, as
# ssl.create_default_context does: a CA's basicConstraints not critical, no authority key identifier) is a
# certificate the bundle's CA did sign, refused for what it is.
_NO_TRUSTED_ISSUER = (2, 18, 19, 20, 21, 27)
_STRICT_RULES = range(79, 95)  # X509_V_ERR_INVALID_CA .. X509_V_ERR_EC_KEY_EXPLICIT_PARAMS (OpenSSL 3.0)
# OpenSSL's reasons for a handshake answered by something that does not speak TLS (a plain-HTTP port's 400 page read
# as a TLS record: "wrong version number", OpenSSL 3.2+ "record layer failure" or "packet length too long"; a server
# that closes on the ClientHello: "unexpected eof"), by their text: CPython names a reason (`[SSL: NAME]`) only when
# its own table knows it, and the tables of CPython 3.13 and before predate OpenSSL 3.2, whose "record layer failure"
# reads `[SSL] record layer failure (_ssl.c:1000)` (cherrypy/cheroot#645 and #711, OpenSSL 3.2; urllib3 2.8.0
# connection.py `_wrap_proxy_error` matches the words too). OpenSSL 1.1.1's EOF carries no reason at all. (HTTP_REQUEST,
# "http request", is a server's reason for a plain request on its TLS port, never a client's.)
_NOT_TLS = ("wrong version number", "record layer failure", "packet length too long", "unexpected eof while reading",
            "eof occurred in violation of protocol")


def tls_hint(cause: Optional[BaseException], reason: str, url: str) -> str:
    """What to do about a TLS failure, by its cause: a certificate naming another host, one out of its dates, one no
    CA given vouches for, one refused for what it is, or a port that does not speak TLS; "" when there is nothing to
    say."""
    code = getattr(cause, "verify_code", None)
    if code in _NAME_MISMATCH:
        return ("; the certificate does not name this host in its subjectAltName (the tools, as urllib3 2, do not "
                "read the subject's CN): use a host name the certificate names, or reissue it with this one")
    if code in _OUT_OF_DATES:
        return "; the certificate is outside its validity dates: renew it (or check this machine's clock)"
    if isinstance(code, int) and code not in _NO_TRUSTED_ISSUER and "CERTIFICATE_VERIFY_FAILED" in reason:
        strict = (" (Python 3.13 and later check certificates by RFC 5280's rules: urllib3 2 sets "
                  "VERIFY_X509_STRICT there)"
                  if code in _STRICT_RULES and sys.version_info >= (3, 13) else "")
        return (f"; not a missing CA: OpenSSL refused the certificate (or its CA's) for what it is (verify code "
                f"{code}){strict}, which no CA bundle cures: reissue it")
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        bundle = _ca_bundle()
        return (f"; the CAs in {bundle} do not include the one that signed it" if bundle else
                "; a private CA or a proxy that inspects TLS: set REQUESTS_CA_BUNDLE to its certificate (a PEM file)")
    if any(words in " ".join(re.split("[^a-z]+", reason.lower())) for words in _NOT_TLS) \
            and url.lower().startswith("https://"):
        return " (if it serves plain HTTP, use http://)"
    return ""


def _ca_bundle() -> Optional[str]:
    """The CA bundle the environment gives requests in place of its own (requests 2.34.2 sessions.py
    `merge_environment_settings`: REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE), named with its path; None when neither."""
    return next((f"${name} ({printable(os.environ[name])!r})" for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
                 if os.environ.get(name)), None)
