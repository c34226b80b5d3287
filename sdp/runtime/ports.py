"""Whether something already listens on a loopback port (ours, or another program's)."""

from __future__ import annotations

import socket


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
