"""Loopback ports for a child process that binds them itself (nginx, slapd, krb5kdc, ...).

A port found free here stays free only until the child binds it. In between, another process
can take it, most often as the local port of an outgoing connection, and the child then exits
with "Address already in use". start_on_free_ports() starts such a child again on fresh ports.
Where the child can listen on port 0 and report its port (Portcullis and the example programs
with --port-file), prefer that: there is no window at all.
"""
import re
import socket

ATTEMPTS = 5
# nginx: "bind() to ... failed (98: Address already in use)"; slapd: "errno=98 (Address
# already in use)"; krb5kdc: "Address already in use - while ...".
ADDRESS_IN_USE = re.compile(r"Address already in use|EADDRINUSE")


def free_port(udp=False):
    """A loopback port free now for TCP, and also for UDP when `udp` (krb5kdc binds both)."""
    for _ in range(100):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            if not udp:
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram:
                try:
                    datagram.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no loopback port free for both TCP and UDP in 100 tries")


def start_on_free_ports(start, attempts=ATTEMPTS):
    """Calls start() until it returns, and returns what it returns. start() picks its ports
    afresh on every call; when its child exits because a port was taken, it raises an error
    whose text holds the child's log. Any other error is raised at once; a port taken
    `attempts` times in a row fails loudly with the last log."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except Exception as e:  # the child's start-up error, with its log
            if not ADDRESS_IN_USE.search(str(e)):
                raise
            if attempt == attempts:
                raise RuntimeError(f"a port was taken on each of {attempts} starts; the last "
                                   f"start:\n{e}") from e
