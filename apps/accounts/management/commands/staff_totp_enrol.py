"""Enrol a staff member for the admin's two-factor login: `manage.py staff_totp_enrol ops@bazaar.test`.

Creates a TOTP device (an authenticator app: the otpauth:// URI, and a QR code when the output is a
terminal) and 10 single-use backup codes, all shown once. A member already enrolled is left as they
are; `--reset` replaces their devices (a lost phone, used-up or leaked backup codes).
"""

from __future__ import annotations

import io
from base64 import b32encode

import qrcode
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.exceptions import NotStaff
from apps.accounts.models import User, UserManager
from apps.accounts.services import StaffEnrolment, staff_two_factor_enrol


class _Terminal(io.StringIO):
    """Collects qrcode's terminal drawing (its colour codes need a terminal), written right after
    to the command's own output, which is one."""

    def isatty(self) -> bool:
        return True


class Command(BaseCommand):
    help = "Enrol a staff member for the admin's two-factor login: a TOTP device and 10 backup codes."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's email")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="replace the member's devices: the old authenticator codes and backup codes stop working",
        )

    def handle(self, *args, email: str, reset: bool, **options):
        user = User.objects.filter(email=UserManager.normalize_email_address(email)).first()
        if user is None:
            raise CommandError(f"No user has the email {email!r}.")
        try:
            enrolment = staff_two_factor_enrol(user=user, reset=reset)
        except NotStaff as error:
            raise CommandError(f"{user.email} is not staff: {error.detail}") from error
        if enrolment is None:
            self.stdout.write(
                f"{user.email} is already enrolled: nothing changed. To replace the authenticator key "
                "and the backup codes (a lost phone, codes used up or seen by someone else), run again with --reset."
            )
            return
        self._show(user=user, enrolment=enrolment, replaced=reset)

    def _show(self, *, user: User, enrolment: StaffEnrolment, replaced: bool) -> None:
        done = "Replaced the two-factor devices of" if replaced else "Enrolled"
        self.stdout.write(f"{done} {user.email} for the admin's two-factor login.")
        self.stdout.write("Add the account to an authenticator app: scan the QR code or open this URI.")
        self.stdout.write(enrolment.provisioning_uri)
        self.stdout.write(f"(or type the key: {b32encode(enrolment.device.bin_key).decode()})")
        if self.stdout.isatty():
            drawing = _Terminal()
            image = qrcode.QRCode(border=2)
            image.add_data(enrolment.provisioning_uri)
            image.print_ascii(out=drawing, tty=True)
            self.stdout.write(drawing.getvalue(), ending="")
        self.stdout.write(
            f"Backup codes: {len(enrolment.backup_codes)}, each works once in place of the app's code. "
            "They are shown only now: keep them somewhere safe, away from the phone."
        )
        for code in enrolment.backup_codes:
            self.stdout.write(f"  {code}")
