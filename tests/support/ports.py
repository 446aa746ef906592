"""Free TCP ports on 127.0.0.1, for the servers tests start as processes.

`ATTN_TEST_PORT_RANGE` (`first-last`, say 18100-18199) keeps the ports `free_ports` hands out
in that range, for a machine shared with others who have ranges of their own (the OIDC
harness keeps its own copy of this: `make sso-provider` runs it as a script, without the
`tests` package).
"""

from __future__ import annotations

import os
import socket

PORT_RANGE_VARIABLE = "ATTN_TEST_PORT_RANGE"


class NoFreePort(Exception):
    """The port range has fewer free ports than asked for."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """`count` free 127.0.0.1 ports: in ATTN_TEST_PORT_RANGE when it is set, else any."""
    bounds = os.environ.get(PORT_RANGE_VARIABLE, "")
    if bounds:
        first, _, last = bounds.partition("-")
        found = [p for p in range(int(first), int(last) + 1) if _port_free(p)][:count]
        if len(found) == count:
            return found
        raise NoFreePort(f"fewer than {count} free ports in {bounds}")
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
