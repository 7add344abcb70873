"""``manage.py claude_conversations``: export one conversation, or a user's conversations, as JSON.

manage.py claude_conversations --id Xq3...              # one conversation (deleted ones too) with its messages
manage.py claude_conversations --user alice             # every conversation of a user (username or id)
manage.py claude_conversations --owner session:abc...   # an anonymous visitor's, by owner key
manage.py claude_conversations --user 42 --output alice.json
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claude_web.web.conversations import export
from claude_web_django.conf import claude_settings
from claude_web_django.conversation_store import DjangoConversationStore


class Command(BaseCommand):
    help = "Export stored Claude conversations (one, or all of a user's) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--id", dest="conversation_id", help="a conversation id (one starting with '-' as --id=<id>)"
        )
        which.add_argument("--user", help="a username or user id: every conversation of that user")
        which.add_argument("--owner", help="an owner key (user:42, session:...)")
        parser.add_argument("--output", help="write to this file instead of standard output")
        parser.add_argument("--indent", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        store = DjangoConversationStore(claude_settings().conversations)
        owner = options["owner"]
        if options["user"]:
            owner = f"user:{self._user_pk(options['user'])}"
        try:
            data = export(store, conversation_id=options["conversation_id"], owner=owner)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        text = json.dumps(data if options["conversation_id"] is None else data[0], indent=options["indent"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"wrote {len(data)} conversation(s) to {options['output']}")
        else:
            self.stdout.write(text)

    @staticmethod
    def _user_pk(value: str) -> Any:
        users = get_user_model()
        found = users._default_manager.filter(**{users.USERNAME_FIELD: value}).first()
        if found is None and value.isdigit():
            found = users._default_manager.filter(pk=int(value)).first()
        if found is None:
            raise CommandError(f"no user {value!r} (give a username or an id)")
        return found.pk
