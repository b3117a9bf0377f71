"""Private Dovecot and Postfix instances for the proofs: own config folders, loopback, never the system's."""

from __future__ import annotations

import imaplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import free_port

DOVECOT = "/usr/sbin/dovecot"
POSTMAP = "/usr/sbin/postmap"


class PrivateDovecot:
    """A Dovecot (IMAP only, no TLS, loopback) whose every file is below `root`."""

    def __init__(self, root: Path, generated: Path) -> None:
        self.root = root
        self.port = free_port()
        self.config = root / "dovecot.conf"
        self.log = root / "dovecot.log"
        for folder in ("run", "state"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        self.config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = mailadmin-test-{self.port}
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
# The auth penalty delays repeated failures from one IP by up to 15 s: off in tests.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
!include {generated}/10-mailadmin.conf
""", encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.root / "stderr", "wb") as stderr:
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer: {self.output()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def output(self) -> str:
        texts = [p.read_text(errors="replace") for p in (self.root / "stderr", self.log) if p.exists()]
        return "\n".join(texts)[-2000:]


def imap_logs_in(root: Path, generated: Path, login: str, password: str) -> bool:
    """Start a private Dovecot on the `generated` config, try one IMAP login, stop it."""
    server = PrivateDovecot(root, generated)
    server.start()
    try:
        with imaplib.IMAP4("127.0.0.1", server.port, timeout=20) as imap:
            logged_in = imap.login(login, password)[0] == "OK"
            imap.logout()
            return logged_in
    except imaplib.IMAP4.error:
        return False
    finally:
        server.stop()


def postmap(config_dir: Path, table: str, key: str) -> str | None:
    """`postmap -q` through one generated LDAP table; None when the key is not found."""
    result = subprocess.run([POSTMAP, "-c", str(config_dir), "-q", key, f"ldap:{config_dir}/{table}"],
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode == 1 and not result.stdout:
        return None
    if result.returncode != 0:
        raise RuntimeError(f"postmap failed ({result.returncode}): {result.stderr}")
    return result.stdout.strip()


def shared_folder() -> Path:
    """A folder below /tmp the mail user (nobody) may enter (pytest's tmp folders are 0700); caller removes it."""
    path = Path(tempfile.mkdtemp(prefix="mailadmin-mailserver-"))
    path.chmod(0o755)
    return path
