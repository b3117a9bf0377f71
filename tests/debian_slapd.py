"""A cn=config slapd built the way Debian's slapd package builds it, in a temp folder, never the system's.

Debian's postinst (create_new_slapd_conf, create_new_directory) takes /usr/share/slapd/slapd.init.ldif,
replaces @SUFFIX@ and @PASSWORD@, runs `slapadd -F slapd.d -b cn=config -l init.ldif`, then adds the
base entry (dcObject + organization) with `slapadd -F slapd.d -b SUFFIX`. We do the same, with the
paths (pid, args, database) moved into the temp folder, and listen on loopback and our own ldapi socket.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from tests.conftest import free_port

INIT_LDIF = Path("/usr/share/slapd/slapd.init.ldif")
SLAPD = "/usr/sbin/slapd"
ADMIN_PASSWORD = "Quan-tri-Debian-2026"


class DebianSlapd:
    """slapd on a cn=config folder made like Debian's package does; stop() ends only this process."""

    def __init__(self, root: Path, base_dn: str, organisation: str) -> None:
        self.root = root
        self.base_dn = base_dn
        self.port = free_port()
        self.config = root / "slapd.d"
        self.socket = root / "ldapi"
        self.process: subprocess.Popen[bytes] | None = None
        self._create(organisation)

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldapi_uri(self) -> str:
        return "ldapi://" + quote(str(self.socket), safe="")

    def _create(self, organisation: str) -> None:
        for folder in (self.config, self.root / "data", self.root / "run"):
            folder.mkdir(parents=True)
        password = subprocess.run(["/usr/sbin/slappasswd", "-s", ADMIN_PASSWORD], capture_output=True,
                                  text=True, check=True).stdout.strip()
        init = (INIT_LDIF.read_text(encoding="utf-8").replace("@SUFFIX@", self.base_dn)
                .replace("@PASSWORD@", password).replace("/var/run/slapd", str(self.root / "run"))
                .replace("/var/lib/ldap", str(self.root / "data")))
        self._slapadd("cn=config", init)
        dc = self.base_dn.split(",")[0].split("=", 1)[1]
        self._slapadd(self.base_dn, f"dn: {self.base_dn}\nobjectClass: top\nobjectClass: dcObject\n"
                                    f"objectClass: organization\no: {organisation}\ndc: {dc}\n")

    def _slapadd(self, base: str, ldif: str) -> None:
        path = self.root / "load.ldif"
        path.write_text(ldif, encoding="utf-8")
        subprocess.run(["/usr/sbin/slapadd", "-F", str(self.config), "-b", base, "-l", str(path)],
                       capture_output=True, text=True, check=True)

    def start(self) -> None:
        """Run slapd in the foreground (-d 0) as a child, listening on loopback and the temp socket."""
        log = open(self.root / "slapd.log", "wb")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen([SLAPD, "-d", "0", "-F", str(self.config), "-h",
                                         f"{self.uri} {self.ldapi_uri}"], stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.root / "slapd.log").read_text(errors="replace")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("slapd did not answer")

    def stop(self) -> None:
        """Stop this slapd (by its own PID)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def ldapsearch(self, *arguments: str) -> str:
        """`ldapsearch -Y EXTERNAL -H ldapi://…` as root, like an operator on the server."""
        return subprocess.run(["ldapsearch", "-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL",
                               "-H", self.ldapi_uri, *arguments], capture_output=True, text=True,
                              check=True).stdout

    def ldapmodify(self, ldif: str) -> None:
        """`ldapmodify -Y EXTERNAL -H ldapi://…` as root."""
        subprocess.run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri], input=ldif,
                       capture_output=True, text=True, check=True)
