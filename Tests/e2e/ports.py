"""Loopback ports for the end-to-end tests' servers."""
import socket


def loopback_port(preferred):
    """The preferred loopback port when it is free, else one the kernel picks (a server left
    running by something else must not fail the test)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
