"""Where a URL we are told to call points: outbound calls that a rule's author or a source's
options choose must not reach the server's own network (loopback, private, link-local, cloud
metadata at 169.254.169.254) unless the deployer allows it."""

import ipaddress
import socket
from urllib.parse import urlsplit


def addresses_of(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal resolves to itself)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def private_address_problem(url: str) -> str:
    """Why the URL must not be called from this server ('' when it may): not http(s), no
    host, a host that does not resolve, or any address that is not globally reachable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the URL must be http(s)://host/…"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = addresses_of(parts.hostname, port)
    except (OSError, ValueError, UnicodeError):
        return f"{parts.hostname} does not resolve"
    for address in found:
        ip = ipaddress.ip_address(address.split("%")[0])
        ip = getattr(ip, "ipv4_mapped", None) or ip
        if not ip.is_global or ip.is_multicast:
            return (
                f"{parts.hostname} is a private, loopback or link-local address ({ip}); "
                "set ACTIONS_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )
    return ""
