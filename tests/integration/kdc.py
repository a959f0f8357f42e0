"""A real MIT Kerberos KDC on loopback for the SPNEGO tests (test_spnego.py).

Everything lives in one temporary directory: krb5.conf and kdc.conf (the processes get them
through KRB5_CONFIG / KRB5_KDC_PROFILE, never /etc), two realm databases made with
`kdb5_util create -s`, principals added with `kadmin.local`, the service keytab written with
`ktadd`, and `krb5kdc -n` serving both realms on a free port. Readiness is polled (a TCP
connection to the port, then a successful kinit); the KDC is stopped by its PID.

Realms: EXAMPLE.TEST is the service's realm (HTTP/localhost, users alice, ALICE and carol);
FOREIGN.TEST (users bob and alice) trusts it one way (krbtgt/EXAMPLE.TEST@FOREIGN.TEST in both
databases, so a user of FOREIGN.TEST can get a ticket for HTTP/localhost@EXAMPLE.TEST): a real foreign-realm ticket.
HTTP/127.0.0.1@EXAMPLE.TEST exists in the KDC but not in the keytab: a ticket for another
service. A missing MIT Kerberos package is an error, never a skip.
"""
import os
import shutil
import socket
import subprocess
import time

from ports import free_port, start_on_free_ports

REALM = "EXAMPLE.TEST"
FOREIGN = "FOREIGN.TEST"
SERVICE = f"HTTP/localhost@{REALM}"
PASSWORDS = {f"alice@{REALM}": "alice-kerberos-pw", f"carol@{REALM}": "carol-kerberos-pw",
             f"bob@{FOREIGN}": "bob-kerberos-pw",
             # Same names in another realm or case: never the account of alice@EXAMPLE.TEST.
             f"alice@{FOREIGN}": "foreign-alice-kerberos-pw",
             f"ALICE@{REALM}": "upper-alice-kerberos-pw"}

TOOLS = {"krb5kdc": "/usr/sbin/krb5kdc", "kdb5_util": "/usr/sbin/kdb5_util",
         "kadmin.local": "/usr/sbin/kadmin.local", "kinit": "/usr/bin/kinit",
         "kdestroy": "/usr/bin/kdestroy", "curl": "/usr/bin/curl"}


def tool(name):
    path = shutil.which(name) or TOOLS[name]
    if not os.path.exists(path):
        raise AssertionError(f"{name} is missing: install krb5-kdc krb5-admin-server krb5-user "
                             "(scripts/deps.sh test)")
    return path


class Kdc:
    def __init__(self, tmp):
        self.dir = os.path.join(str(tmp), "kdc")
        os.makedirs(self.dir)
        self.port = free_port(udp=True)  # krb5kdc listens on both
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.kdc_conf = os.path.join(self.dir, "kdc.conf")
        self.keytab = os.path.join(self.dir, "http.keytab")
        self.log = os.path.join(self.dir, "kdc.log")
        self.proc = None
        self._write_config()
        for realm in (REALM, FOREIGN):
            self._run(tool("kdb5_util"), "create", "-s", "-r", realm, "-P", "master-" + realm)
        for principal, password in PASSWORDS.items():
            self._admin(principal.split("@")[1], f"addprinc -pw {password} {principal}")
        # The one-way trust: the same key for krbtgt/EXAMPLE.TEST@FOREIGN.TEST in both realms.
        for realm in (REALM, FOREIGN):
            self._admin(realm, f"addprinc -pw cross-realm-pw krbtgt/{REALM}@{FOREIGN}")
        self._admin(REALM, f"addprinc -randkey {SERVICE}")
        self._admin(REALM, f"addprinc -randkey HTTP/127.0.0.1@{REALM}")
        self._admin(REALM, f"ktadd -k {self.keytab} {SERVICE}")
        attempts = []

        def attempt():
            if attempts:  # the port was taken since it was picked: a fresh one
                self.port = free_port(udp=True)
                self._write_config()
                if os.path.exists(self.log):  # its "Address already in use" is not this start's
                    os.unlink(self.log)
            attempts.append(1)
            self._start()

        start_on_free_ports(attempt)

    def env(self, **extra):
        """The environment of a Kerberos client or acceptor that uses this KDC."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        e.update({"KRB5_CONFIG": self.krb5_conf, "KRB5_KDC_PROFILE": self.kdc_conf,
                  "KRB5RCACHEDIR": self.dir})
        e.update(extra)
        return e

    def _write_config(self):
        d, port = self.dir, self.port
        with open(self.krb5_conf, "w") as f:
            f.write(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  ticket_lifetime = 10h
[realms]
  {REALM} = {{
    kdc = 127.0.0.1:{port}
  }}
  {FOREIGN} = {{
    kdc = 127.0.0.1:{port}
  }}
[domain_realm]
  localhost = {REALM}
  127.0.0.1 = {REALM}
[capaths]
  {FOREIGN} = {{
    {REALM} = .
  }}
""")
        realms = ""
        for realm in (REALM, FOREIGN):
            realms += f"""  {realm} = {{
    database_name = {d}/principal-{realm}
    key_stash_file = {d}/stash-{realm}
    acl_file = {d}/kadm5.acl
    max_life = 10h
    max_renewable_life = 0
  }}
"""
        with open(self.kdc_conf, "w") as f:
            f.write(f"""[kdcdefaults]
  kdc_listen = 127.0.0.1:{port}
  kdc_tcp_listen = 127.0.0.1:{port}
[realms]
{realms}[logging]
  kdc = FILE:{self.log}
""")
        open(os.path.join(d, "kadm5.acl"), "w").close()

    def _run(self, *args, env=None, input=None):
        r = subprocess.run(args, env=env or self.env(), input=input, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, f"{args}: {r.stdout}{r.stderr}"
        return r

    def _admin(self, realm, query):
        self._run(tool("kadmin.local"), "-r", realm, "-q", query)

    def _start(self):
        out = open(os.path.join(self.dir, "krb5kdc.out"), "wb")
        self.proc = subprocess.Popen([tool("krb5kdc"), "-n", "-r", REALM, "-r", FOREIGN],
                                     env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("krb5kdc exited: " + self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("krb5kdc did not listen: " + self.read_log())
                time.sleep(0.05)

    def read_log(self):
        text = ""
        for name in ("krb5kdc.out", "kdc.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text

    def kinit(self, principal, lifetime=None):
        """A fresh credential cache for `principal` (a file in the temporary directory)."""
        cache = os.path.join(self.dir, "cc-" + principal.replace("/", "_").replace("@", "_"))
        args = [tool("kinit"), "-c", "FILE:" + cache]
        if lifetime:
            args += ["-l", lifetime]
        args.append(principal)
        self._run(*args, input=PASSWORDS[principal] + "\n")
        return "FILE:" + cache

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
