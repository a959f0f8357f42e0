"""A throwaway OpenLDAP server for the LDAP black-box tests (test_ldap.py), as scripts/pg.sh is
for PostgreSQL: a slapd.conf in a temporary directory, an LDIF of users loaded with slapadd, a
test CA and a server certificate made with openssl (plus a second, unrelated CA for the wrong-CA
test), plain LDAP (for StartTLS) and LDAPS on free loopback ports, and LDAPS on 127.0.0.2, an
address the certificate does not name. The memberof overlay (Debian's module) keeps the users'
memberOf, as Active Directory does; since slapadd bypasses overlays, the groups are added over
LDAP on the first start. start() waits for readiness by polling with ldapsearch; stop() ends the
process by its PID. A missing slapd, slapadd, ldapadd, ldapsearch or openssl raises: the tests
fail, never skip.

HoldingProxy is a TCP relay to it that a test can hold, to keep a connection busy for as long
as it likes without sleeping.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from ports import free_port, start_on_free_ports

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema"
# The shell backend's debug level: quiet here, as nothing uses that backend.
DEBUG_LEVEL = "1024"

SUFFIX = "dc=example,dc=org"
SERVICE_DN = f"cn=svc,{SUFFIX}"
SERVICE_PASSWORD = "svc-password-9f2"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "admin-password-4c1"  # adds the groups over LDAP (memberof overlay)
USERS = {
    # uid: (password, groups)
    "alice": ("alice-password-7Q", ["admins", "developers"]),
    "bob": ("bob-password-3Z", ["developers", "unmapped"]),
    "carol": ("carol-password-5K", []),
}


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def _make_ca(d, name):
    key, cert = os.path.join(d, f"{name}.key"), os.path.join(d, f"{name}.pem")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN=Portcullis {name}",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return key, cert


def _make_server_cert(d, ca_key, ca_cert):
    key, csr, cert = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
          "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext])
    return key, cert


def _ldif():
    """The base, the service account and the users; the groups are _groups_ldif()."""
    out = [f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: svc
userPassword: {SERVICE_PASSWORD}
"""]
    for uid, (password, _) in USERS.items():
        out.append(f"""dn: uid={uid},ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid.title()}
sn: {uid.title()}
userPassword: {password}
""")
    return "\n".join(out)


def _groups_ldif():
    out = []
    groups = {}
    for uid, (_, gs) in USERS.items():
        for g in gs:
            groups.setdefault(g, []).append(uid)
    for g, members in groups.items():
        lines = [f"dn: cn={g},ou=groups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {g}"]
        lines += [f"member: uid={m},ou=people,{SUFFIX}" for m in members]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


class Slapd:
    def __init__(self):
        for tool in (SLAPD, SLAPADD):
            if not os.access(tool, os.X_OK):
                raise RuntimeError(f"{tool} is missing: install slapd (scripts/deps.sh test)")
        for tool in ("ldapsearch", "ldapadd", "openssl"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is missing: install ldap-utils/openssl")
        self.dir = tempfile.mkdtemp(prefix="portcullis-slapd-")
        self.proc = None
        d = self.dir
        ca_key, self.ca_file = _make_ca(d, "ca")
        _, self.other_ca_file = _make_ca(d, "other-ca")
        self.key_file, self.cert_file = _make_server_cert(d, ca_key, self.ca_file)
        os.makedirs(os.path.join(d, "db"))
        self._pick_ports()
        self.started = False
        self.groups_added = False
        self.conf = os.path.join(d, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""include {SCHEMA}/core.schema
include {SCHEMA}/cosine.schema
include {SCHEMA}/nis.schema
include {SCHEMA}/inetorgperson.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {self.cert_file}
TLSCertificateKeyFile {self.key_file}
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {d}/db
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="{SERVICE_DN}" read
  by self read
  by * none
""")
        ldif = os.path.join(d, "data.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif())
        _run([SLAPADD, "-f", self.conf, "-l", ldif])

    def _pick_ports(self):
        self.port = free_port()
        self.ldaps_port = free_port()
        self.other_address_port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = f"ldaps://127.0.0.1:{self.ldaps_port}"
        # The same server and certificate (IP:127.0.0.1, DNS:localhost) at another address.
        self.other_address_url = f"ldaps://127.0.0.2:{self.other_address_port}"

    def _tls_env(self):
        return dict(os.environ, LDAPTLS_CACERT=self.ca_file, LDAPTLS_REQCERT="demand")

    def start(self, deadline_s=30):
        """Starts slapd and waits until it answers. The first start moves to fresh ports when
        one was taken since it was picked; a restart keeps them, as the tests' configuration
        names them."""
        if self.started:
            self._start(deadline_s)
            return
        attempts = []

        def attempt():
            if attempts:
                self._pick_ports()
            attempts.append(1)
            self._start(deadline_s)

        start_on_free_ports(attempt)
        self.started = True

    def _start(self, deadline_s):
        self.log = open(os.path.join(self.dir, "slapd.log"), "wb")
        # -d: stay in the foreground (the PID is ours to stop). DEBUG_LEVEL logs the errors that
        # every level logs (a failed bind: "Address already in use") and little else.
        self.proc = subprocess.Popen(
            [SLAPD, "-d", DEBUG_LEVEL, "-f", self.conf, "-h",
             f"{self.url}/ {self.ldaps_url}/ {self.other_address_url}/"],
            stdout=self.log, stderr=subprocess.STDOUT)
        env = self._tls_env()
        end = time.monotonic() + deadline_s
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("slapd exited:\n" + self.logs())
            r = subprocess.run(["ldapsearch", "-x", "-H", self.ldaps_url, "-D", SERVICE_DN,
                                "-w", SERVICE_PASSWORD, "-b", SUFFIX, "-s", "base", "dn"],
                               capture_output=True, env=env, timeout=10)
            if r.returncode == 0:
                break
            if time.monotonic() > end:
                self.stop()
                raise RuntimeError("slapd did not become ready:\n" + self.logs())
            time.sleep(0.05)
        if not self.groups_added:
            # Through the server, so that the memberof overlay writes the users' memberOf.
            _run(["ldapadd", "-x", "-H", self.ldaps_url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                 input=_groups_ldif(), env=env, timeout=30)
            self.groups_added = True

    def member_of(self, uid):
        """The memberOf values of a user, as the service account reads them."""
        r = _run(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.ldaps_url,
                  "-D", SERVICE_DN, "-w", SERVICE_PASSWORD, "-b", f"uid={uid},ou=people,{SUFFIX}",
                  "-s", "base", "memberOf"], env=self._tls_env(), timeout=10)
        return [line.split(": ", 1)[1] for line in r.stdout.splitlines()
                if line.lower().startswith("memberof: ")]

    def logs(self):
        try:
            with open(os.path.join(self.dir, "slapd.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def pause(self):
        """Freezes the server (SIGSTOP): connections open, nothing answers (a timeout)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.proc = None

    def clean(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class HoldingProxy:
    """A TCP relay on loopback to (host, port). While held, it accepts connections but passes
    none of their bytes on, so whoever connected waits (a TLS handshake, a request) until
    release(); wait_held(n) returns once n connections have bytes held back. Counts the
    connections it accepted. close() ends every connection."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cond = threading.Condition()
        self.held = False
        self.accepted = 0
        self.holding = 0
        self.sockets = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self):
        with self.cond:
            self.held = True

    def release(self):
        with self.cond:
            self.held = False
            self.cond.notify_all()

    def wait_held(self, n, deadline_s=30):
        with self.cond:
            if not self.cond.wait_for(lambda: self.holding >= n, timeout=deadline_s):
                raise AssertionError(f"{self.holding} connections held, not {n}")

    def close(self):
        with self.cond:
            self.closed = True
            self.held = False
            self.cond.notify_all()
            socks, self.sockets = self.sockets, []
        for s in [self.listener, *socks]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.cond:
                if self.closed:
                    client.close()
                    server.close()
                    return
                self.accepted += 1
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src, dst, may_hold):
        counted = False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if may_hold:
                    with self.cond:
                        if self.held and not counted:
                            counted = True
                            self.holding += 1
                            self.cond.notify_all()
                        self.cond.wait_for(lambda: not self.held)
                        if counted:
                            counted = False
                            self.holding -= 1
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
