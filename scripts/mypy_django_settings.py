"""The smallest Django settings the django-stubs mypy plugin needs to type-check ``claude_web_django``."""

SECRET_KEY = "type-checking-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin", "claude_web_django"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
