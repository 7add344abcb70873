from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "claude-web demo chat"

    def ready(self) -> None:
        from django.conf import settings

        from .jobs_setup import install_job_service

        install_job_service(settings)
