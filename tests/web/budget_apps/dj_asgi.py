"""``uvicorn budget_apps.dj_asgi:application``"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_apps.dj_settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
