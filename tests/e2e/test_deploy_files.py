"""The files in ``deploy/``, ``compose.yaml`` and the ``Dockerfile``, as an operator installs
them: nginx and HAProxy accept their configs, the systemd units pass ``systemd-analyze
verify`` and give a node time to stop, every setting they name is one Inkling reads (and
Inkling accepts the sample values), the balancers cap bodies where Inkling does, each
compose node has a data volume of its own, and a second node's entry point gives it the
first node's keys, so a link one node made opens on the other.

A check that needs a tool (nginx, haproxy, systemd-analyze) is skipped where the tool is
not installed (``apt-get install nginx-light haproxy``); nothing here needs Docker.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inkling.api.integrations import MAX_PAYLOAD_BYTES
from inkling.api.providers import MAX_BODY
from inkling.api.sessions import load_or_create_key
from inkling.config import Settings, load_settings
from inkling.datadir import DataDir
from inkling.events.loader import DEFAULT_DRAIN_SECONDS
from inkling.leased import LEASE_SECONDS
from inkling.privacy.optout import OptOutKey
from inkling.tokens import TokenCodec, new_message_id

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "inkling.service"
TEMPLATE = DEPLOY / "systemd" / "inkling@.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "inkling.env.example"
ENTRY = DEPLOY / "docker" / "inkling-node"
#: Where the units and the image put the program (the venv's own stands in for it here).
INSTALLED = "/opt/inkling/bin/inkling"
VENV_BIN = Path(sys.executable).parent
#: What every node must hold the same copy of.
SHARED_KEYS = ("keys", "privacy_key", "session_key")
#: How long `inkling serve` may take to stop: uvicorn's graceful shutdown
#: (``timeout_graceful_shutdown`` in cli/serving.py), a lease's worker thread, the drain.
STOP_SECONDS = 10 + LEASE_SECONDS + DEFAULT_DRAIN_SECONDS
URL = "https://help.acme.example/articles/refunds?ticket=48213"
NAMED_SETTING = re.compile(r"\bINKLING_[A-Z0-9_]+\b")
SETTINGS = {f"INKLING_{name.upper()}" for name in Settings.model_fields} | {"INKLING_CONFIG"}
MIB = 1024 * 1024


def _tool(name: str) -> str:
    """The path of ``name`` (also in /usr/sbin, often not on a user's PATH), or skip."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install it to check this file)")
    return found


def _run(*command: str | Path, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=60, **options
    )


def _throwaway_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key for localhost, valid for a day (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert, private = directory / "fullchain.pem", directory / "privkey.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


# ---- nginx ------------------------------------------------------------------------------

#: The smallest main configuration around a site file, everything it writes in ``{tmp}``.
NGINX_MAIN = """\
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{}}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    access_log {tmp}/access.log;
    include site.conf;
}}
"""


def _nginx_test(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on ``site`` (an http-level file), with the snippet where it is
    installed (``snippets/``, beside the main configuration)."""
    nginx = _tool("nginx")
    (tmp_path / "snippets").mkdir()
    shutil.copy(DEPLOY / "nginx" / "inkling-proxy.conf", tmp_path / "snippets")
    (tmp_path / "site.conf").write_text(site.replace("/var/log/nginx/", f"{tmp_path}/"))
    main = tmp_path / "nginx.conf"
    main.write_text(NGINX_MAIN.format(tmp=tmp_path))
    return _run(nginx, "-t", "-p", tmp_path, "-c", main)


def test_nginx_accepts_the_tls_front(tmp_path: Path) -> None:
    cert, key = _throwaway_certificate(tmp_path / "tls")
    site = (DEPLOY / "nginx" / "inkling.conf").read_text()
    assert "/etc/ssl/inkling/fullchain.pem" in site
    site = site.replace("/etc/ssl/inkling/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/inkling/privkey.pem", str(key))
    checked = _nginx_test(tmp_path, site)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_accepts_the_compose_front(tmp_path: Path) -> None:
    site = (DEPLOY / "compose" / "nginx.conf").read_text()
    # the nodes' names resolve inside compose's network only
    site = site.replace("inkling-1:8080", "127.0.0.1:18081")
    site = site.replace("inkling-2:8080", "127.0.0.1:18082")
    checked = _nginx_test(tmp_path, site)
    assert checked.returncode == 0, checked.stderr


def _nginx_body_limits() -> dict[str, int]:
    """``client_max_body_size`` by location in the shared snippet ("" for the server's)."""
    limits: dict[str, int] = {}
    location = ""
    for line in (DEPLOY / "nginx" / "inkling-proxy.conf").read_text().splitlines():
        opened = re.match(r"\s*location\s+(?:=|\^~)?\s*(\S+)\s*\{", line)
        if opened:
            location = opened.group(1)
        elif line.strip() == "}":
            location = ""
        size = re.match(r"\s*client_max_body_size\s+(\d+)([km]?);", line)
        if size:
            unit = {"": 1, "k": 1024, "m": MIB}[size.group(2)]
            limits[location] = int(size.group(1)) * unit
    return limits


def _haproxy_body_limits() -> dict[str, int]:
    """The Content-Length above which HAProxy answers 413, by acl."""
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    rules = re.findall(r"deny_status 413 if (\S+) .*?gt (\d+) \}", text)
    return {acl: int(size) for acl, size in rules}


def test_the_balancers_cap_bodies_where_inkling_does() -> None:
    max_message = Settings.model_fields["max_message_bytes"].default
    nginx = _nginx_body_limits()
    assert nginx["/api/v1/messages"] == max_message
    assert nginx["/api/v1/events"] == nginx["/api/v1/providers/"] == MAX_BODY
    assert nginx["/api/v1/integrations/"] == MAX_PAYLOAD_BYTES
    assert nginx[""] == MIB  # the dashboard's forms and the API's JSON
    haproxy = _haproxy_body_limits()
    assert haproxy == {
        "big_message": max_message,
        "big_import": MAX_BODY,
        "helpdesk": MAX_PAYLOAD_BYTES,
        "!big_message": MIB,
    }


# ---- HAProxy ----------------------------------------------------------------------------


def test_haproxy_accepts_its_configuration(tmp_path: Path) -> None:
    haproxy = _tool("haproxy")
    cert, key = _throwaway_certificate(tmp_path)
    pem = tmp_path / "inkling.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())  # HAProxy wants one file
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    assert "/etc/haproxy/certs/inkling.pem" in text
    config = tmp_path / "haproxy.cfg"
    config.write_text(text.replace("/etc/haproxy/certs/inkling.pem", str(pem)))
    checked = _run(haproxy, "-c", "-f", config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration file is valid" in checked.stdout + checked.stderr


# ---- systemd ----------------------------------------------------------------------------


def _directives(unit: Path) -> dict[str, list[str]]:
    """Each directive's values, in order (comments left out)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            name, _, value = line.partition("=")
            found.setdefault(name.strip(), []).append(value.strip())
    return found


def _assignments(text: str, prefix: str = "") -> dict[str, str]:
    """``NAME=value`` lines (also commented-out ones, the examples) with the single quotes
    systemd removes from a value removed."""
    found = {}
    pattern = re.compile(rf"^#?{re.escape(prefix)}([A-Z][A-Z0-9_]*)=(.*)$")
    for line in text.splitlines():
        match = pattern.match(line.strip())
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            found[match.group(1)] = value
    return found


@pytest.mark.parametrize(
    "path",
    [
        UNIT,
        TEMPLATE,
        ENV_EXAMPLE,
        ENTRY,
        ROOT / "Dockerfile",
        ROOT / "compose.yaml",
    ],
    ids=lambda path: path.name,
)
def test_every_variable_named_is_a_setting_inkling_reads(path: Path) -> None:
    named = set(NAMED_SETTING.findall(path.read_text()))
    assert named - SETTINGS == set(), "not settings Inkling reads"


def test_inkling_accepts_the_units_and_the_sample_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./inkling.toml
    given = _assignments(UNIT.read_text(), prefix="Environment=")
    given |= _assignments(ENV_EXAMPLE.read_text())  # the file wins, as in systemd
    given.pop("INKLING_CONFIG")  # names a file that is not here
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.data_dir == Path("/var/lib/inkling")
    assert settings.database_url is not None and settings.database_url.startswith("postgresql")
    assert settings.base_url.startswith("https://")
    assert settings.trusted_proxies == ["10.0.0.5"]


def test_systemd_gives_a_node_time_to_stop() -> None:
    for unit in (UNIT, TEMPLATE):
        found = _directives(unit)
        assert found["KillSignal"] == ["SIGTERM"]
        assert found["KillMode"] == ["mixed"]  # the main process first, its children after
        timeout = re.fullmatch(r"(\d+)s", found["TimeoutStopSec"][0])
        assert timeout and int(timeout.group(1)) >= STOP_SECONDS
        assert found["Restart"] == ["always"]


def test_the_unit_writes_its_data_dir_and_nothing_else() -> None:
    found = _directives(UNIT)
    assert found["User"] == ["inkling"]
    assert found["ProtectSystem"] == ["strict"]
    assert found["NoNewPrivileges"] == found["PrivateTmp"] == ["yes"]
    assert found["StateDirectory"] == ["inkling"]
    assert found["ReadWritePaths"] == ["/var/lib/inkling"]
    assert "INKLING_DATA_DIR=/var/lib/inkling" in found["Environment"]
    assert found["EnvironmentFile"] == ["/etc/inkling/inkling.env"]


def test_each_instance_of_the_template_is_a_node_of_its_own() -> None:
    found = _directives(TEMPLATE)
    assert found["StateDirectory"] == ["inkling/%i"]
    assert "INKLING_DATA_DIR=/var/lib/inkling/%i" in found["Environment"]
    assert found["ReadWritePaths"] == ["/var/lib/inkling/%i"]
    assert "--port %i" in found["ExecStart"][0]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    program = VENV_BIN / "inkling"
    for unit in (UNIT, TEMPLATE):
        text = unit.read_text()
        assert INSTALLED in text
        (tmp_path / unit.name).write_text(text.replace(INSTALLED, str(program)))
    for name in ("inkling.service", "inkling@8081.service"):
        checked = _run(analyze, "verify", tmp_path / name)
        assert checked.returncode == 0, checked.stderr
        assert "inkling" not in checked.stderr, checked.stderr


# ---- compose ----------------------------------------------------------------------------


class Mount(NamedTuple):
    source: str
    target: str
    read_only: bool


def _mount(spec: str) -> Mount:
    source, target, *mode = spec.split(":")
    return Mount(source, target, "ro" in mode)


def _image_environment() -> dict[str, str]:
    """The ``ENV`` the Dockerfile sets (NAME=value pairs, continued lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            found |= dict(re.findall(r"([A-Z_]+)=(\S+)", line))
    return found


def _compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads compose.yaml")
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def _nodes(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "INKLING_DATABASE_URL" in (service.get("environment") or {})
    }


def test_each_compose_node_has_a_data_volume_of_its_own() -> None:
    compose = _compose()
    nodes = _nodes(compose)
    assert len(nodes) >= 2
    data_dir = _image_environment()["INKLING_DATA_DIR"]
    own: dict[str, str] = {}
    for name, node in nodes.items():
        mounts = [_mount(spec) for spec in node["volumes"]]
        (data,) = [mount for mount in mounts if mount.target == data_dir]
        assert not data.read_only
        assert data.source in compose["volumes"]  # a named volume, not a shared host dir
        own[name] = data.source
    assert len(set(own.values())) == len(nodes)
    for name, node in nodes.items():
        for mount in map(_mount, node["volumes"]):
            if mount.source in own.values() and mount.source != own[name]:
                # another node's volume: read-only, only for its key files
                assert mount.read_only
                assert node["environment"]["KEYS_FROM"] == mount.target


def test_compose_nodes_agree_and_believe_only_the_front() -> None:
    compose = _compose()
    nodes = _nodes(compose)
    for setting in ("INKLING_DATABASE_URL", "INKLING_BASE_URL", "INKLING_TRUSTED_PROXIES"):
        assert len({node["environment"][setting] for node in nodes.values()}) == 1, setting
    first = next(iter(nodes.values()))
    proxies = json.loads(first["environment"]["INKLING_TRUSTED_PROXIES"])
    fronts = [s for name, s in compose["services"].items() if name not in nodes and "ports" in s]
    assert len(fronts) == 1
    (network,) = fronts[0]["networks"].values()
    assert proxies == [network["ipv4_address"]]
    assert all("ports" not in node for node in nodes.values())  # reached through the front
    for node in nodes.values():  # docker stop gives a node time to stop, as systemd does
        grace = re.fullmatch(r"(\d+)s", node["stop_grace_period"])
        assert grace and int(grace.group(1)) >= STOP_SECONDS


# ---- the container's entry point: the first node's keys ---------------------------------


def _key_files(data_dir: Path) -> list[Path]:
    where = DataDir(data_dir)
    return [getattr(where, name) for name in SHARED_KEYS]


def _first_node(data_dir: Path) -> TokenCodec:
    """The key files as a node makes them on its first start."""
    data_dir.mkdir()
    keys, privacy, session = _key_files(data_dir)
    codec = TokenCodec.for_key_file(keys)
    OptOutKey.load_or_create(privacy)
    load_or_create_key(session)
    return codec


def _start_node(data_dir: Path, keys_from: Path) -> subprocess.CompletedProcess[str]:
    """The entry point as the container runs it, with ``inkling --help`` for a command."""
    data_dir.mkdir(exist_ok=True)
    environment = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "INKLING_DATA_DIR": str(data_dir),
        "KEYS_FROM": str(keys_from),
    }
    return _run("sh", ENTRY, "--help", env=environment)


def test_a_second_node_takes_the_first_nodes_keys_and_opens_its_links(tmp_path: Path) -> None:
    first = _first_node(tmp_path / "first")
    link = first.click_token(new_message_id(), 0, 1_790_000_000, URL)
    started = _start_node(tmp_path / "second", keys_from=tmp_path / "first")
    assert started.returncode == 0, started.stderr
    assert "Usage: inkling" in started.stdout  # then it ran the command
    for mine, theirs in zip(
        _key_files(tmp_path / "second"), _key_files(tmp_path / "first"), strict=True
    ):
        assert mine.read_bytes() == theirs.read_bytes()
        assert mine.stat().st_mode & 0o777 == 0o600
    second = TokenCodec.for_key_file(DataDir(tmp_path / "second").keys)
    assert second.decode_click(link).url == URL


def test_a_second_node_does_not_start_without_the_first_nodes_keys(tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()  # the first node never started
    started = _start_node(tmp_path / "second", keys_from=tmp_path / "first")
    assert started.returncode == 1
    assert "keys.json is missing: start the first node once first" in started.stderr
    assert started.stdout == ""
    assert not any(path.exists() for path in _key_files(tmp_path / "second"))


def test_a_node_keeps_its_own_keys_and_says_they_differ(tmp_path: Path) -> None:
    _first_node(tmp_path / "first")
    _first_node(tmp_path / "second")  # made its own before it was pointed at the first
    before = [path.read_bytes() for path in _key_files(tmp_path / "second")]
    started = _start_node(tmp_path / "second", keys_from=tmp_path / "first")
    assert started.returncode == 0, started.stderr
    assert "warning:" in started.stderr and "keys.json differs" in started.stderr
    assert [path.read_bytes() for path in _key_files(tmp_path / "second")] == before
