"""``flask claude ...``: ``ping`` the API, a ``usage`` report, the ``budget`` of each scope, ``conversations`` as
JSON, an interactive ``chat`` in the terminal.

Nothing here prints a key: errors are shown as their class and a safe message, clients by alias and base URL.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click
from flask.cli import AppGroup

from claude_web import Anthropic, APIError
from claude_web.web.budgets import budget_report, render_budget_json, render_budget_table
from claude_web.web.checks import redis_reachable
from claude_web.web.conversations import export
from claude_web.web.events import safe_error
from claude_web.web.report import GROUPS, parse_groups, parse_since, render_csv, render_json, render_table, summarize

from .state import get_state

__all__ = ["claude_cli"]

claude_cli = AppGroup(
    "claude", help="Claude: check the API connection, report usage and budgets, chat in the terminal."
)


def _cli_client(alias: str | None) -> tuple[str, Anthropic]:
    state = get_state()
    name = alias or state.settings.default_client
    if name not in state.settings.clients:
        raise click.BadParameter(
            f"no client {name!r}; configured: {', '.join(state.settings.clients)}", param_hint="--client"
        )
    return name, state.runtime.clients.get(name).with_options(usage_context={"source": "cli"})


def _fail(exc: APIError) -> None:
    safe = safe_error(exc)
    click.secho(f"error: {type(exc).__name__} ({safe['type']}): {safe['message']}", fg="red", err=True)


def _default_model() -> str:
    return get_state().settings.chat.default_model


@claude_cli.command("ping")
@click.option("--client", "alias", default=None, help="Client alias from CLAUDE_WEB_CLIENTS (default: the default).")
@click.option("--model", default=None, help="Model to ask (default: CLAUDE_WEB_CHAT_DEFAULT_MODEL).")
def ping(alias: str | None, model: str | None) -> None:
    """Send a one-token request and report the round trip."""
    name, client = _cli_client(alias)
    model = model or _default_model()
    click.echo(f"pinging {model} through client {name!r} at {client.base_url} ...")
    started = time.perf_counter()
    try:
        message = client.messages.create(model=model, max_tokens=1, messages=[{"role": "user", "content": "ping"}])
    except APIError as exc:
        _fail(exc)
        raise SystemExit(1) from None
    elapsed = (time.perf_counter() - started) * 1000
    request_id = getattr(message, "_request_id", None) or "-"
    click.echo(f"ok: {message.model} answered in {elapsed:.0f} ms (request id {request_id})")
    redis_url = get_state().settings.jobs.get("REDIS_URL")
    if redis_url:
        why = redis_reachable(redis_url)
        if why is not None:
            click.secho(f"error: jobs' Redis cannot be reached ({why}); starting a job answers 503", fg="red", err=True)
            raise SystemExit(1)
        click.echo("ok: jobs' Redis answers")


@claude_cli.command("usage")
@click.option("--since", default=None, help="Start: a date, a datetime, or a span back from now like 7d or 12h.")
@click.option("--until", default=None, help="End (exclusive): a date or a datetime.")
@click.option(
    "--by", "by", default="day,model", show_default=True, help=f"Comma-separated grouping from {', '.join(GROUPS)}."
)
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "json")), default="table", show_default=True)
def usage(since: str | None, until: str | None, by: str, fmt: str) -> None:
    """Usage totals (requests, tokens, cost) by day, model and/or user, from the stored records.

    The same report as Django's ``manage.py claude_usage``.
    """
    try:
        groups = parse_groups(by)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--by") from None
    try:
        start = parse_since(since) if since else None
        end = parse_since(until) if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since/--until") from None
    try:
        rows = summarize(get_state().usage_store.rows(start, end), groups)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    render = {"table": render_table, "csv": render_csv, "json": render_json}[fmt]
    click.echo(render(groups, rows))


@claude_cli.command("conversations")
@click.option("--id", "conversation_id", default=None, help="One conversation (deleted ones too).")
@click.option("--user", default=None, help="A user id (as the user loader gives it): all of that user's.")
@click.option("--owner", default=None, help="An owner key (user:42, session:...).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Write to this file.")
def conversations(conversation_id: str | None, user: str | None, owner: str | None, output: str | None) -> None:
    """Export stored conversations as JSON: one by id, or every conversation of a user.

    The same export as Django's ``manage.py claude_conversations``.
    """
    if sum(x is not None for x in (conversation_id, user, owner)) != 1:
        raise click.UsageError("give exactly one of --id, --user, --owner")
    who = f"user:{user}" if user is not None else owner
    try:
        data = export(get_state().runtime.conversation_store, conversation_id=conversation_id, owner=who)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    text = json.dumps(data[0] if conversation_id is not None else data, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        click.echo(f"wrote {len(data)} conversation(s) to {output}", err=True)
    else:
        click.echo(text)


@claude_cli.command("budget")
@click.option("--scope", default=None, help="Only this scope: user:<id>, session:<key>, alias:<name> or global.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option("--sweep", is_flag=True, help="First release the holds of calls whose process died.")
def budget(scope: str | None, fmt: str, sweep: bool) -> None:
    """Each budget's use, what calls in flight hold, and what remains (caller, client alias, site).

    The same report as Django's ``manage.py claude_budget``.
    """
    budgets = get_state().runtime.budgets
    if budgets is None:
        click.echo("no budget limits are set (CLAUDE_WEB_QUOTAS)")
        return
    if sweep:
        click.echo(f"released {budgets.sweep()} expired reservation(s)")
    lines = budget_report(budgets, scope=scope)
    click.echo(render_budget_json(lines) if fmt == "json" else render_budget_table(lines))


@claude_cli.command("chat")
@click.option("--client", "alias", default=None, help="Client alias from CLAUDE_WEB_CLIENTS.")
@click.option("--model", default=None, help="Model (default: CLAUDE_WEB_CHAT_DEFAULT_MODEL).")
@click.option("--system", default=None, help="A system prompt.")
@click.option("--max-tokens", default=1024, show_default=True, type=click.IntRange(min=1))
def chat(alias: str | None, model: str | None, system: str | None, max_tokens: int) -> None:
    """Chat in the terminal; answers stream in as they are written. An empty line or /quit leaves."""
    _, client = _cli_client(alias)
    model = model or _default_model()
    messages: list[dict[str, Any]] = []
    click.echo(f"Chatting with {model}. An empty line, /quit or Ctrl-D leaves.")
    while True:
        try:
            line = click.prompt("you", default="", show_default=False, prompt_suffix="> ")
        except (click.Abort, EOFError):
            click.echo()
            break
        if line.strip() in ("", "/quit", "/exit"):
            break
        messages.append({"role": "user", "content": line})
        params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
        if system:
            params["system"] = system
        click.echo("claude> ", nl=False)
        parts: list[str] = []
        try:
            with client.messages.stream(**params) as stream:
                for text in stream.text_stream:
                    parts.append(text)
                    click.echo(text, nl=False)
        except APIError as exc:
            click.echo()
            _fail(exc)
            messages.pop()
            continue
        except KeyboardInterrupt:
            click.echo("\n(interrupted)")
            messages.pop()
            continue
        click.echo()
        messages.append({"role": "assistant", "content": "".join(parts) or "(no text)"})
