"""Key pairs of the people and services that decide: Ed25519, one private key file each.

``govern keys create NAME`` writes ``NAME.pem`` (PKCS#8, file mode 0600) into the keys
directory (``GOVERN_KEYS_DIR``, else ``<workdir>/keys``) and prints the public key, which
an owner then lists under ``members`` in the policy. Acting ``--as NAME`` means signing
with that file: a process that does not hold NAME's private key cannot decide as NAME.
The private key is not encrypted at rest; protecting the file (an account of its own, a
hardware token at scale) is the holder's part, see docs/threat-model.md.

Approved versions are also signed as a *release*, in the OpenSSF model-signing format,
whose key-based signer takes elliptic-curve keys only: ``govern keys create NAME
--release`` makes an ECDSA P-256 pair (``NAME.release.pem``) for that, which the policy
names under ``release``.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from vocabulary import NotAuthorised, Rule, UsageError

__all__ = [
    "KEY_PREFIX",
    "RELEASE_KEY_PREFIX",
    "Signer",
    "create_key",
    "create_release_key",
    "held_release_key",
    "key_path",
    "load_signer",
    "release_key_path",
    "release_public_key",
    "release_public_pem",
    "release_signing_key",
    "signature_is_valid",
]

KEY_PREFIX = "ed25519:"
RELEASE_KEY_PREFIX = "ecdsa-p256:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Signer:
    """Someone who holds a private key: their name, public key text and the key itself."""

    name: str
    public_key: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        """Sign ``message``; return the signature in base64."""
        return base64.b64encode(self.private_key.sign(message)).decode("ascii")


def key_path(keys_dir: Path, name: str) -> Path:
    """Where the private key of ``name`` lives in ``keys_dir``.

    Raises
    ------
    UsageError
        If ``name`` is not 1-64 letters, digits, dots, dashes or underscores (a name is a
        file name here, so ``../x`` must not reach outside the directory).
    """
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"a key name is 1-64 letters, digits, '.', '_' or '-' starting with a letter or "
            f"digit, got {name!r}"
        )
    return keys_dir / f"{name}.pem"


def public_key_text(key: Ed25519PublicKey) -> str:
    """``ed25519:`` and the raw 32-byte public key in base64, as the policy lists it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def release_key_path(keys_dir: Path, name: str) -> Path:
    """Where the release-signing (ECDSA P-256) private key of ``name`` lives."""
    return key_path(keys_dir, name).with_suffix(".release.pem")


def create_key(keys_dir: Path, name: str) -> str:
    """Make a key pair for ``name``: write the private key (mode 0600), return the public.

    Raises
    ------
    UsageError
        If the name is malformed or a key of that name exists (it is never overwritten:
        a lost old key would orphan every decision it signed).
    """
    key = Ed25519PrivateKey.generate()
    _write_private(key_path(keys_dir, name), name, key)
    return public_key_text(key.public_key())


def create_release_key(keys_dir: Path, name: str) -> str:
    """Make an ECDSA P-256 release-signing pair for ``name``; return the public key text.

    Raises
    ------
    UsageError
        As :func:`create_key`.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    _write_private(release_key_path(keys_dir, name), name, key)
    return release_public_key(key.public_key())


def release_public_key(key: ec.EllipticCurvePublicKey) -> str:
    """``ecdsa-p256:`` and the DER SubjectPublicKeyInfo in base64, as the policy lists it."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return RELEASE_KEY_PREFIX + base64.b64encode(der).decode("ascii")


def release_public_pem(text: str) -> bytes:
    """The PEM form of a release public key, which the model-signing verifier reads.

    Raises
    ------
    UsageError
        If ``text`` is not an ``ecdsa-p256:`` key.
    """
    if not text.startswith(RELEASE_KEY_PREFIX):
        raise UsageError(f"expected a release key '{RELEASE_KEY_PREFIX}...', got {text[:20]!r}")
    key = serialization.load_der_public_key(base64.b64decode(text[len(RELEASE_KEY_PREFIX) :]))
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_private(
    path: Path, name: str, key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        # O_EXCL: never overwrite; the mode is set at creation, so the key is never readable
        # by others, not even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(
            f"a key for {name!r} exists at {path}; it is never overwritten (remove it "
            f"yourself if it is really lost, then have an owner adopt a policy with the new key)"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _require_owner_only(path: Path) -> None:
    """Refuse a private key file that others than its owner can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsageError(
            f"the private key {path} must be readable by its owner only: expected mode 0600, "
            f"found {mode:04o}"
        )


def load_signer(keys_dir: Path, name: str) -> Signer:
    """Load the private key of ``name`` from ``keys_dir``.

    Raises
    ------
    NotAuthorised
        If there is no key file for ``name``: this process cannot act as ``name``.
    UsageError
        If the file is readable by others than its owner, or is not an Ed25519 key.
    """
    path = key_path(keys_dir, name)
    if not path.is_file():
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"acting as {name!r} needs {name}'s private "
            f"key at {path}, found none (set GOVERN_KEYS_DIR, or `govern keys create {name}`)",
        )
    _require_owner_only(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: expected an Ed25519 private key, found {type(key).__name__}")
    return Signer(name, public_key_text(key.public_key()), key)


def release_signing_key(keys_dir: Path, name: str, listed: str) -> Path:
    """The release private key file of ``name``, checked against the public key ``listed``.

    Returned as a path: the model-signing signer reads the key from a file.

    Raises
    ------
    NotAuthorised
        If this process holds no release key for ``name``, or another than ``listed``.
    UsageError
        If the file is readable by others than its owner.
    """
    path = release_key_path(keys_dir, name)
    if not path.is_file():
        raise NotAuthorised.by(
            Rule.SIGNED_RELEASES,
            f"signing a release as {name!r} needs the "
            f"release key at {path}, found none (`govern keys create {name} --release`)",
        )
    _require_owner_only(path)
    held = held_release_key(keys_dir, name)
    if held != listed:
        raise NotAuthorised.by(
            Rule.SIGNED_RELEASES,
            f"the release key held for {name!r} is {held}, the policy lists {listed}",
        )
    return path


def held_release_key(keys_dir: Path, name: str) -> str:
    """The public half of the release key file of ``name``, as the policy lists it.

    Raises
    ------
    UsageError
        If the file is not an ECDSA private key.
    """
    path = release_key_path(keys_dir, name)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UsageError(f"{path}: expected an ECDSA private key, found {type(key).__name__}")
    return release_public_key(key.public_key())


def signature_is_valid(public_key: str, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s signature of ``message``."""
    if not public_key.startswith(KEY_PREFIX):
        return False
    try:
        raw = base64.b64decode(public_key[len(KEY_PREFIX) :], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature, validate=True), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True
