"""Signing keys for the rotation procedure (docs/operations.md, "Rotating the JWT signing key").

manage_all.py auth auth_keys show                 # kid of the current key and of each listed key
manage_all.py auth auth_keys generate --out FILE  # a new RSA private key (PEM, mode 0600)
manage_all.py auth auth_keys public FILE          # the public key (PEM) of a private key file
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError

from common.auth.keys import jwk_thumbprint

from ... import signing


class Command(BaseCommand):
    help = "Show, generate and export the JWT signing keys (see docs/operations.md)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("show", help="kid of the current key and of every key the JWKS lists")
        generate = commands.add_parser("generate", help="write a new RSA private key")
        generate.add_argument("--out", required=True, help="file to create (refuses to overwrite)")
        public = commands.add_parser("public", help="print the public key of a private key file")
        public.add_argument("file")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _show(self, **options):
        current = signing.current_kid()
        for kid in signing.verifying_keys():
            self.stdout.write(f"{kid}\t{'current (signs)' if kid == current else 'previous (verifies only)'}")

    def _generate(self, *, out, **options):
        path = Path(out)
        pem = signing.generate_private_key_pem()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{path} exists; refusing to overwrite a key") from None
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(pem)
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        self.stdout.write(f"wrote {path} (kid {jwk_thumbprint(key.public_key())})")

    def _public(self, *, file, **options):
        try:
            key = serialization.load_pem_private_key(Path(file).read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read a private key from {file}: {exc}") from None
        self.stdout.write(
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii"),
            ending="",
        )
