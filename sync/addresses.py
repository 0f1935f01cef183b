"""Which addresses a feed may reach: the guard `sync.fetch` puts in front of every hop.

Only public unicast addresses, by default (docs/feeds.md, "What a run guarantees"). Refused:
loopback, private, link-local, CGNAT, unique-local, multicast, reserved, unspecified, IPv4
embedded in IPv6 (mapped, 6to4, Teredo, NAT64) that is one of those, and cloud metadata
addresses. `allow_private` lifts this for all of them but link-local and cloud metadata
addresses, which are where a cloud host hands out its credentials: only `allow_link_local`, a
choice of its own, lifts those.
"""

import ipaddress
from typing import Protocol

# Named on their own so the message says "metadata" (most are in refused ranges anyway).
_METADATA = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # Python's is_private leaves it out
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_FLAGS = (  # the `ipaddress` flag, what it is called, the Policy setting that lifts it
    ("is_loopback", "a loopback", "allow_private"),
    ("is_link_local", "a link-local", "allow_link_local"),
    ("is_multicast", "a multicast", "allow_private"),
    ("is_unspecified", "an unspecified", "allow_private"),
    ("is_private", "a private", "allow_private"),
    ("is_reserved", "a reserved", "allow_private"),
)


class Allowance(Protocol):
    """The settings of a fetch's policy that lift the guard (`sync.fetch.Policy`)."""

    allow_private: bool
    allow_link_local: bool


def refused(address: str, policy: Allowance) -> str | None:
    """Why `policy` does not let a feed reach `address`, for a message, or None if it does."""
    found = forbidden(address)
    if found is None or getattr(policy, found[1]):
        return None
    reason, setting = found
    return f"{reason}; refused (Policy.{setting} is off)"


def forbidden(address: str) -> tuple[str, str] | None:
    """Why `address` is not a public unicast address and the Policy setting that allows it
    all the same, or None if it is one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if ip in _METADATA:
        return "a cloud metadata address", "allow_link_local"
    if ip.version == 6:
        mapped = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        )
        if mapped:  # packets go to the IPv4 address: judge that one alone
            found = forbidden(str(mapped))
            return found and (f"{found[0]} ({mapped}) inside IPv6", found[1])
        tunnelled = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnelled and (found := forbidden(str(tunnelled))):
            return f"{found[0]} ({tunnelled}) inside IPv6", found[1]
    if ip in _CGNAT:
        return "a shared (CGNAT) address", "allow_private"
    for flag, words, setting in _FLAGS:
        if getattr(ip, flag):
            return f"{words} address", setting
    if ip.version == 6 and ip.is_site_local:
        return "a site-local address", "allow_private"
    if not ip.is_global:
        return "not a global address", "allow_private"
    return None
