"""The relay's TLS for STARTTLS: the configured certificate, or a self-signed one.

Helpdesks must be able to encrypt their password from the first start, before anyone has
obtained a certificate, so without one the relay makes a self-signed pair in the data dir
(the key readable by its owner only) and keeps using it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inkling.errors import ConfigError


def server_context(
    cert: Path | None, key: Path | None, *, self_signed_dir: Path, hostname: str
) -> ssl.SSLContext:
    """An SSLContext for STARTTLS with the given pair, or the self-signed one kept in
    ``self_signed_dir`` (made on first use)."""
    if cert is None or key is None:
        cert, key = self_signed(self_signed_dir, hostname)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"bad setting INKLING_RELAY_TLS_CERT: cannot load {cert} and {key}: {exc}"
        ) from exc
    return context


def self_signed(directory: Path, hostname: str) -> tuple[Path, Path]:
    """The self-signed certificate and key in ``directory``, made on first use."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.DNSName("localhost")]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(private, hashes.SHA256())
    )
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key
