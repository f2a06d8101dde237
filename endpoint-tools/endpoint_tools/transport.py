"""How a request is held to its deadlines: one alarm thread for every deadline, the response headers' deadline on
each urllib3 connection, a watchdog that shuts a late response's socket (and how Ctrl-C stops every request in
flight); and the API key as a bearer token."""
import heapq
import http.client
import socket
import threading
import time
from typing import Any, Callable, Optional

import requests
import requests.auth
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager


class _Alarms:
    """One thread firing every deadline of every request (a timer thread per request would cap the benchmark's own
    throughput): a heap of (when, callback) and a condition to wake up for earlier ones."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._cancelled: set[int] = set()
        self._cond = threading.Condition()
        self._next_id = 0
        self._thread: Optional[threading.Thread] = None

    def schedule(self, delay_s: float, callback: Any) -> int:
        with self._cond:
            self._next_id += 1
            entry = (time.monotonic() + max(0.0, delay_s), self._next_id, callback)
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="llm-api-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:  # wake the thread only when it must fire sooner than it planned
                self._cond.notify()
            return self._next_id

    def cancel(self, alarm: int) -> None:
        with self._cond:
            self._cancelled.add(alarm)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, alarm, callback = self._heap[0]
                wait_s = when - time.monotonic()
                if wait_s > 0:
                    self._cond.wait(wait_s)
                    continue
                heapq.heappop(self._heap)
                if alarm in self._cancelled:
                    self._cancelled.discard(alarm)
                    continue
            callback()


_ALARMS = _Alarms()


class HeaderDeadline:
    """When a request's response headers must have come (LlmClient._open sets one for its thread), and whether it
    passed: requests' read timeout restarts with every byte, so a server sending its headers a byte at a time held a
    tool for as long as it kept sending."""

    _current = threading.local()  # the deadline of the request this thread is sending, None between requests

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.expired = False
        self.sent = False  # the request went out: a timeout before it is the connection's (TLS, a proxy's tunnel)

    def fire(self, sock: Optional[socket.socket]) -> None:
        self.expired = True
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read of the headers returns at once
        except OSError:
            pass


class _LastLine:
    """A response's reader that remembers the last line read: b"" is the connection's end."""

    def __init__(self, fp: Any):
        self.fp, self.last = fp, b"\n"

    def readline(self, *args: Any) -> bytes:
        self.last = self.fp.readline(*args)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fp, name)


class _FinalAnswer(http.client.HTTPResponse):
    """http.client's response, read past every interim (1xx) answer to the final one, as a client must (RFC 9110
    15.2): http.client passes over 100 Continue only (CPython 3.11 Lib/http/client.py `HTTPResponse.begin`), and a
    CDN's 103 Early Hints or a 102 Processing was taken for the answer, the real one never read. 101 Switching
    Protocols is final (the tools never ask for an upgrade). Headers the connection's close cut short are the
    connection's end, not an answer: http.client ends them there without a word (`_read_headers` stops at b""), and
    a server gone inside its headers read as a whole 200 with no body."""

    interim_passed_over = False  # only in begin(), under the headers' deadline (not a tunnel's CONNECT: see below)

    def begin(self) -> None:
        self.interim_passed_over = True
        reader = self.fp = _LastLine(self.fp)  # type: ignore[assignment]
        try:
            super().begin()
        finally:
            if self.fp is reader:  # begin closes the connection, fp None, for a body it knows to be empty
                self.fp = reader.fp
        if reader.last == b"":
            raise http.client.RemoteDisconnected("Remote end closed connection inside the response headers")

    def _read_status(self) -> tuple[str, int, str]:
        """The status line of the final answer. A tunnel's CONNECT reads its answer with `_read_status` alone
        (urllib3 2.8.0 connection.py `_tunnel`, CPython's), while connecting, before any headers' deadline: there
        its first answer is the one (a 1xx, "Tunnel connection failed: 102"), else a proxy sending one interim
        answer after another, each within the socket's timeout, held the request for as long as it sent them."""
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]  # private, in 3.10 to 3.14
            if not self.interim_passed_over or not 100 <= status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's headers (Early Hints' Link), passed over


class _HeadersOnTime:
    """A urllib3 connection whose wait for the response headers ends at its thread's HeaderDeadline (each hop of a
    redirect included), by the alarm thread shutting its socket down; interim answers are passed over
    (_FinalAnswer)."""

    sock: Optional[socket.socket]
    response_class: type[http.client.HTTPResponse] = _FinalAnswer

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline: Optional[HeaderDeadline] = getattr(HeaderDeadline._current, "deadline", None)
        if deadline is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        deadline.sent = True
        sock = self.sock
        alarm = _ALARMS.schedule(deadline.at - time.monotonic(), lambda: deadline.fire(sock))
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            _ALARMS.cancel(alarm)


class _Connection(_HeadersOnTime, HTTPConnection):
    pass


class _TlsConnection(_HeadersOnTime, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class BearerAuth(requests.auth.AuthBase):
    """The API key as a bearer token (RFC 6750 section 2.1)."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


def own_connections(manager: Any) -> None:
    """A urllib3 pool manager (an HTTP(S) proxy's too) whose pools make _HeadersOnTime connections: interim answers
    passed over, and the headers' deadline held when the thread sets one. A SOCKS proxy's manager keeps its pools,
    which make SOCKS connections."""
    if type(manager) in (PoolManager, ProxyManager):
        manager.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}


def headers_on_time(session: requests.Session) -> None:
    """The session's connections (those of each adapter's pool manager, and of the managers it makes for an HTTP(S)
    proxy, made as requests go) are _HeadersOnTime."""
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            own_connections(manager)
        made = getattr(adapter, "proxy_manager_for", None)
        if made is not None and not getattr(made, "on_time", False):
            adapter.proxy_manager_for = _proxies_on_time(made)  # type: ignore[attr-defined]


def _proxies_on_time(made: Callable[..., Any]) -> Callable[..., Any]:
    """An adapter's proxy_manager_for whose HTTP(S) proxy managers make _HeadersOnTime connections: requests makes
    one per proxy as requests go (requests 2.34.2 adapters.py `proxy_manager_for`), with urllib3's own pools, so
    through $HTTP_PROXY or $HTTPS_PROXY no headers' deadline held and a 1xx was taken for the answer."""
    def proxy_manager_for(proxy: str, **proxy_kwargs: Any) -> Any:
        manager = made(proxy, **proxy_kwargs)
        own_connections(manager)
        return manager
    proxy_manager_for.on_time = True  # type: ignore[attr-defined]
    return proxy_manager_for


class Watchdog:
    """Enforces deadlines on a response being read: when one passes, it shuts the socket down, so a blocked read
    returns at once, and remembers which deadline it was. Also how Ctrl-C stops every request in flight."""

    _inflight: "set[Watchdog]" = set()
    _lock = threading.Lock()

    def __init__(self, response: requests.Response):
        self.response = response
        self.expired: Optional[str] = None
        self._alarms: dict[str, int] = {}

    def __enter__(self) -> "Watchdog":
        with self._lock:
            self._inflight.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        for alarm in self._alarms.values():
            _ALARMS.cancel(alarm)
        with self._lock:
            self._inflight.discard(self)

    def arm(self, kind: str, seconds: float) -> None:
        self._alarms[kind] = _ALARMS.schedule(seconds, lambda: self.fire(kind))

    def disarm(self, kind: str) -> None:
        alarm = self._alarms.pop(kind, None)
        if alarm is not None:
            _ALARMS.cancel(alarm)

    def _socket(self) -> Optional[socket.socket]:
        """The response's socket: on its urllib3 connection (keep-alive), or under http.client's reader when the
        server said `Connection: close` (http.client then detaches it from the connection)."""
        raw = self.response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is None:
            sock = getattr(getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None)
        return sock

    def fire(self, kind: str) -> None:
        if self.expired is not None:
            return
        self.expired = kind
        sock = self._socket()
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def extend_reads(self, seconds: float) -> None:
        """After the headers, a read may wait up to the rest of the total deadline (the watchdog bounds it)."""
        sock = self._socket()
        try:
            if sock is not None:
                sock.settimeout(max(0.001, seconds))
        except OSError:
            pass

    @classmethod
    def cancel_all(cls) -> None:
        with cls._lock:
            inflight = list(cls._inflight)
        for watchdog in inflight:
            watchdog.fire("cancelled")


def cancel_all() -> None:
    """Stop every request in flight (each fails with kind `cancelled`)."""
    Watchdog.cancel_all()
