from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "claude-web demo chat"

    def ready(self) -> None:
        from demo_site.telemetry import setup_telemetry

        setup_telemetry("django")  # DEMO_OTEL=console|otlp (web processes and the Celery worker); off by default
