"""Cross-site request forgery and claude-web's Flask blueprints.

Without Flask-WTF the blueprints' POST endpoints are protected by what they accept: a JSON body with
``Content-Type: application/json`` only (a form or ``text/plain`` post, the kinds a foreign page can send without
asking, is refused with 415), and no CORS: a cross-origin ``fetch`` with a JSON body needs a preflight, and these
endpoints never answer one with ``Access-Control-Allow-*`` headers, so the browser does not send the request.

With Flask-WTF's ``CSRFProtect`` installed on the app, the blueprints honour it: every POST must carry the token
(``X-CSRFToken`` header, from ``csrf_token()`` in a template) even when ``WTF_CSRF_CHECK_DEFAULT`` is off, unless
the app exempts a blueprint deliberately (``csrf.exempt(chat_blueprint)``). A refused token is answered like every
other refusal, as JSON: ``400 {"error": {"type": "csrf_failed", "field": "X-CSRFToken", "message": ...}}``.

>>> from flask_wtf.csrf import CSRFProtect
>>> CSRFProtect(app)
>>> app.register_blueprint(chat_blueprint, url_prefix="/claude")   # POSTs now need X-CSRFToken
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g

from claude_web.web.errors import WebError

from .http import flask_response

__all__ = ["csrf_check", "protect_blueprint"]


def csrf_check() -> None:
    """``before_request`` of claude-web's blueprints: Flask-WTF's check, when the app installed ``CSRFProtect``
    and it has not run for this request yet (its own check already covers apps with ``WTF_CSRF_CHECK_DEFAULT``)."""
    csrf = current_app.extensions.get("csrf")
    if csrf is None or g.get("csrf_valid") or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    csrf.protect(apply_exemptions=True)


def _csrf_refused(exc: Any) -> Response:
    message = str(getattr(exc, "description", "") or "The CSRF token is missing or invalid.")
    refusal = WebError(message, status=int(getattr(exc, "code", 400) or 400), type="csrf_failed", field="X-CSRFToken")
    return flask_response(refusal.response())


def protect_blueprint(blueprint: Blueprint) -> Blueprint:
    """Make ``blueprint`` honour Flask-WTF's CSRF protection (see the module) and answer its refusals as JSON."""
    blueprint.before_request(csrf_check)
    try:
        from flask_wtf.csrf import CSRFError
    except ImportError:  # no Flask-WTF: nothing to honour
        return blueprint
    blueprint.register_error_handler(CSRFError, _csrf_refused)
    return blueprint
