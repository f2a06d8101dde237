"""Loopback ports for the servers tests start (nginx, PostgreSQL, llama.cpp, a closed port to refuse)."""
import socket


def free_port() -> int:
    """A port nothing listens on now (the OS's pick): released before the caller's server binds it, so another
    process could take it first; none does on a test machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
