"""Move every platform-held private key onto the current key-encryption key."""

from django.core.management.base import BaseCommand

from companies.services import platform_keys_rewrap


class Command(BaseCommand):
    help = (
        "Re-encrypt platform-held signing keys with the first KEY_ENCRYPTION_KEYS entry. "
        "Run after adding a new key-encryption key; then the old entry can be removed."
    )

    def handle(self, *args, **options):
        moved = platform_keys_rewrap()
        self.stdout.write(self.style.SUCCESS(f"{moved} platform-held key(s) re-encrypted."))
