"""Whether a URL points at this machine, for tasks that must never send traffic elsewhere."""

import ipaddress
import socket
from urllib.parse import urlsplit


def is_loopback_host(host: str) -> bool:
    """Return True when ``host`` is a loopback address or a name of this machine, without any lookup.

    Loopback addresses are 127.0.0.0/8, ::1 and their IPv4-mapped forms, also in the short IPv4
    spellings the C library accepts, such as 127.1. Names count only as "localhost" and names under it.
    """
    host = (host or "").strip().rstrip(".").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # inet_aton parses the short forms (127.1, 2130706433) and never touches the network.
            address = ipaddress.ip_address(socket.inet_aton(host))
        except (OSError, ValueError):
            return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def is_loopback_url(url: str) -> bool:
    """Return True when the host of ``url`` is this machine (see ``is_loopback_host``)."""
    try:
        return is_loopback_host(urlsplit(url).hostname or "")
    except ValueError:
        return False
