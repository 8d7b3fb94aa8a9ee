"""Signed releases: an approved version's OpenSSF model-signing bundle.

When a version's sign-off completes, its artifacts (as the log recorded them) are signed
with the policy's release key in the OpenSSF model-signing format (the ``model-signing``
package, key-based, offline: a Sigstore bundle holding a DSSE envelope over the manifest
of every file's SHA-256). The bundle is logged to the version's run as
``release/model.sig`` and its SHA-256 recorded in a signed ``version.released`` event, so
that standard tooling can check a released model::

    model_signing verify key MODEL_DIR --signature model.sig --public_key release.pub

and :func:`verify_release` does the same before the governed loader serves a champion.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

# Imported with the module, not inside the functions: a process that approves must fail on
# a broken install before it records the approval, not half-way through releasing it.
import model_signing

from governance.ledger import AuditEvent
from governance.ledger.hashing import sha256_file
from governance.stores.handle import Stores, download_artifacts
from governance.trust.identity import release_public_pem, release_signing_key
from validation.policy import ReleaseSigner
from vocabulary import IntegrityError

__all__ = ["BUNDLE_ARTIFACT", "sign_release", "verify_release"]

#: Where the bundle sits among the version's run artifacts.
BUNDLE_ARTIFACT = "release/model.sig"


def sign_release(
    stores: Stores, release: ReleaseSigner, model_dir: Path, run_id: str
) -> dict[str, Any]:
    """Sign ``model_dir`` with the release key; log the bundle to ``run_id``.

    Returns
    -------
    dict
        The ``version.released`` payload: the bundle's URI and SHA-256, and the release
        signer and public key.

    Raises
    ------
    NotAuthorised
        If this process does not hold the release key the policy lists.
    """
    key = release_signing_key(stores.settings.keys_dir, release.signer, release.public_key)
    folder, name = BUNDLE_ARTIFACT.rsplit("/", 1)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / name
        model_signing.signing.Config().use_elliptic_key_signer(private_key=key).sign(
            model_dir, bundle
        )
        stores.client.log_artifact(run_id, str(bundle), folder)
        digest = sha256_file(bundle)
    return {
        "bundle_uri": f"runs:/{run_id}/{BUNDLE_ARTIFACT}",
        "bundle_sha256": digest,
        "release_signer": release.signer,
        "release_public_key": release.public_key,
    }


def verify_release(stores: Stores, released: AuditEvent, model_dir: Path) -> None:
    """Check a version's bundle against its ``version.released`` event and its artifacts.

    The bundle must hash to what the event recorded, and the model-signing verifier must
    accept it for ``model_dir`` with the release public key the event names (which the
    signature checks of the log tie to the policy in force then).

    Raises
    ------
    IntegrityError
        If the bundle is missing, altered, or does not verify for these artifacts.
    """
    payload = released.payload
    where = f"{released.model} version {released.version}"
    try:
        bundle = download_artifacts(stores, payload["bundle_uri"])
    except OSError as exc:
        raise IntegrityError(
            f"{where}: its release bundle {payload['bundle_uri']} cannot be read: {exc}"
        ) from exc
    digest = sha256_file(bundle)
    if digest != payload["bundle_sha256"]:
        raise IntegrityError(
            f"{where}: release bundle {payload['bundle_uri']} hashes to {digest}, event seq "
            f"{released.seq} recorded {payload['bundle_sha256']}; refusing it"
        )
    with tempfile.TemporaryDirectory() as tmp:
        public = Path(tmp) / "release.pub"
        public.write_bytes(release_public_pem(payload["release_public_key"]))
        verifier = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public)
        try:
            verifier.verify(Path(model_dir), bundle)
        except Exception as exc:  # whatever the verifier objects to, the release is refused
            raise IntegrityError(
                f"{where}: the model-signing verifier rejects its release bundle for these "
                f"artifacts: {exc}"
            ) from exc
