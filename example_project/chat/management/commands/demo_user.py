"""``manage.py demo_user [--username demo] [--password demo-pass-123] [--staff]``: create or update a login."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-pass-123"


class Command(BaseCommand):
    help = "Create (or reset the password of) the demo site's login user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=DEMO_USERNAME)
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--staff", action="store_true", help="also let the user into /admin/")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        user, created = model._default_manager.get_or_create(username=options["username"])
        user.set_password(options["password"])
        if options["staff"]:
            user.is_staff = user.is_superuser = True
        user.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} user {user.get_username()!r}")
