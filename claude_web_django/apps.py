"""The app's configuration: add ``"claude_web_django"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed


def _on_setting_changed(sender: Any, setting: str, **kwargs: Any) -> None:
    if setting == "CLAUDE_WEB":
        from . import conf, runtime

        conf.reset()
        runtime.reset_runtime()


class ClaudeWebConfig(AppConfig):
    name = "claude_web_django"
    label = "claude_web"
    verbose_name = "Claude"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        setting_changed.connect(_on_setting_changed, dispatch_uid="claude_web_django.setting_changed")
