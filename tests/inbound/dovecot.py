"""A private Dovecot IMAP server for the poller's tests (Debian's ``dovecot-imapd``).

One instance per test session, from a generated config in a temp dir: plain IMAP on
127.0.0.1 on a free port, PLAIN login, one user in a passwd-file, its mail in a Maildir
under the temp dir; each test gets a fresh folder of its own (``add_mailbox``). It also
serves imaps and STARTTLS with a self-signed certificate. Dovecot refuses to
run its login processes or to open mail as root, so as root they run as ``dovenull`` and
``nobody`` (which is why the temp dir is made under /tmp, readable by them); as anyone else
everything runs as the current user, without chroot.
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from inkling.relay.tls import self_signed

USER = "support"
_SEQUENCE = itertools.count()
PASSWORD = "s3cret"


def dovecot_binary() -> str | None:
    """The dovecot binary, also when /usr/sbin is not on PATH."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None


class Dovecot:
    """A running private Dovecot; ``stop()`` ends it and removes its files."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        self.root = Path(tempfile.mkdtemp(prefix="inkling-dovecot-"))
        self.root.chmod(0o755)
        self.mail = self.root / "mail"
        self.users = self.root / "users"
        self.config = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        self.port = self.tls_port = 0
        # a self-signed pair for 127.0.0.1: imaps and STARTTLS, trusted with ``cafile=cert``
        self.cert, self.key = self_signed(self.root / "tls", "localhost")
        self._mail_owner: tuple[int, int] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        for name in ("mail", "run", "state"):
            (self.root / name).mkdir()
        self.users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        self._start()
        for sub in ("", "new", "cur", "tmp"):
            (self.mail / USER / sub).mkdir()
            self._own(self.mail / USER / sub)

    def url(self, mailbox: str, password: str = PASSWORD, *, scheme: str = "imap") -> str:
        port = self.tls_port if scheme == "imaps" else self.port
        return f"{scheme}://{USER}:{password}@127.0.0.1:{port}/{mailbox}"

    def add_mailbox(self, prefix: str = "t") -> str:
        """A new, empty mailbox (a Maildir++ folder of the one user); returns its name."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        self._doveadm("mailbox", "create", "-u", USER, name)
        return name

    def put(self, mailbox: str, raw: bytes, *, at: float | None = None, flags: str = "") -> Path:
        """Put a message into ``mailbox`` as a mail server would (into tmp/, then new/).

        ``at``: its arrival time (INTERNALDATE, the file's mtime for Maildir); ``flags``
        (Maildir letters, e.g. "FS") puts it in cur/ with those flags.
        """
        folder = self.mail / USER / f".{mailbox}"
        # Dovecot numbers new files in the order of their names: seconds, then M (micro)
        name = f"{int(time.time())}.M{next(_SEQUENCE):06d}P{os.getpid()}.inkling-test"
        tmp = folder / "tmp" / name
        tmp.write_bytes(raw)
        self._own(tmp)
        if at is not None:
            os.utime(tmp, (at, at))
        target = folder / "cur" / f"{name}:2,{flags}" if flags else folder / "new" / name
        tmp.rename(target)
        return target

    def files(self, mailbox: str) -> list[str]:
        """The message files of ``mailbox``, as new/NAME and cur/NAME:2,FLAGS."""
        folder = self.mail / USER / f".{mailbox}"
        return sorted(f"{sub}/{p.name}" for sub in ("new", "cur") for p in (folder / sub).iterdir())

    def flags(self, mailbox: str) -> dict[int, str]:
        """Every message's flags, by UID, as Dovecot itself reports them."""
        output = self._doveadm("fetch", "-u", USER, "uid flags", "mailbox", mailbox)
        found = re.findall(r"uid: (\d+)\nflags: ([^\n]*)", output)
        return {int(uid): flags.strip() for uid, flags in found}

    def set_uidvalidity(self, mailbox: str, value: int) -> None:
        self._doveadm("mailbox", "update", "-u", USER, "--uid-validity", str(value), mailbox)

    def stop(self) -> None:
        self.stop_process()
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_process(self) -> None:
        if self._process is not None:
            self._process.terminate()  # the master stops its children, then exits
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def _start(self) -> None:
        # in the foreground (-F), as this process's child: stopped and reaped by stop()
        for _ in range(5):  # a free port can be taken between finding and binding it
            self.port, self.tls_port = _free_port(), _free_port()
            self.config.write_text(self._config_text())
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )  # fmt: skip
            if _answers(self.port, self._process):
                return
            self.stop_process()
        log = self.log.read_text() if self.log.exists() else "(no log)"
        shutil.rmtree(self.root, ignore_errors=True)
        raise RuntimeError(f"dovecot did not start:\n{log[-2000:]}")

    def _config_text(self) -> str:
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        if os.getuid() == 0:
            login_user = _existing_user("dovenull", "nobody")
            mail_user = pwd.getpwnam("nobody")
            self._mail_owner = (mail_user.pw_uid, mail_user.pw_gid)
            privileges = f"""
default_internal_user = {me}
default_internal_group = {group}
default_login_user = {login_user}
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
first_valid_uid = 1
first_valid_gid = 1
"""
        else:
            privileges = f"""
default_internal_user = {me}
default_internal_group = {group}
default_login_user = {me}
mail_uid = {os.getuid()}
mail_gid = {os.getgid()}
first_valid_uid = 1
first_valid_gid = 1
"""
        chroot = "" if os.getuid() == 0 else "chroot =  # chroot needs root"
        return f"""# generated by tests/inbound/dovecot.py
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = inkling-test-{self.root.name}
log_path = {self.log}
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
mail_location = maildir:{self.mail}/%u
{privileges}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users}
}}
service anvil {{
  {chroot}
  # no auth penalty: after the test with a wrong password, logins must not wait seconds
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
"""

    def _own(self, path: Path) -> None:
        if self._mail_owner is not None:
            os.chown(path, *self._mail_owner)

    def _doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [self.doveadm, "-c", str(self.config), *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, process: subprocess.Popen[bytes]) -> bool:
    for _ in range(100):
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                return sock.recv(100).startswith(b"* OK")
        except OSError:
            time.sleep(0.05)
    return False


def _existing_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError(f"none of the users {names} exists")
