"""ASGI entry point (``uvicorn demo_site.asgi:application``); static files are served by Django itself, so the
demo needs no CDN and no separate web server. The lifespan wrapper closes the Claude clients at shutdown."""

from __future__ import annotations

import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

from claude_web_django.asgi import with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")

application = with_lifespan(ASGIStaticFilesHandler(get_asgi_application()))
