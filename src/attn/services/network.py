"""Network rules of check-ins: client addresses behind trusted proxies, and subnet matching.

The join script itself tests an address against the lesson's networks (see
`attn.store.redis_client.address_bits`).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)  # a worker sees the same peers again and again
def parse_address(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> IPAddress | None:
    """The client's address: the socket peer, unless that peer is a trusted proxy.

    Then X-Forwarded-For is walked from the right, skipping trusted proxies; the first
    address that is not one is the client. Entries a client wrote itself sit further left and
    are never reached while an untrusted hop stands to their right.
    """
    address = parse_address(peer) if peer else None
    if address is None or not is_inside(address, trusted):
        return address
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_address = parse_address(hop)
        if hop_address is None:
            return None  # a malformed hop: nothing left of it can be trusted
        address = hop_address
        if not is_inside(address, trusted):
            return address
    return address


def is_inside(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether `address` is in one of `networks` (say, a trusted proxy)."""
    return any(address.version == network.version and address in network for network in networks)


def default_subnet(address: IPAddress) -> str:
    """The teacher's own network when none is listed: the /24 (IPv4) or /64 (IPv6)."""
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def login_source(address: IPAddress | None) -> str:
    """Where failed logins are counted from: the IPv4 address, or the IPv6 /64 (one
    subscriber's network, whose addresses a client may pick freely); `unknown` without one."""
    if address is None:
        return "unknown"
    if address.version == 4:
        return str(address)
    return default_subnet(address)


def names_one_client(address: IPAddress | None) -> bool:
    """Whether an address can tell one phone from another: a loopback address is a proxy on
    this host that does not pass the client's on (every student would share it)."""
    return address is not None and not address.is_loopback and not address.is_unspecified
