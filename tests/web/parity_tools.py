"""Server-run tools of the live test servers (``parity_server.py``), named in ``ASSISTANTS`` by dotted path as a
project's own tools are."""

from __future__ import annotations

from claude_web.web.tools import ToolError, tool

FORECASTS = {"Oslo": {"temp_c": 4, "sky": "snow"}, "Lisbon": {"temp_c": 19, "sky": "sun"}}


@tool
def weather(city: str) -> dict[str, object]:
    """Today's weather in a city.

    Args:
        city: The city's English name, e.g. Oslo.
    """
    if city not in FORECASTS:
        raise ToolError(f"No forecast for {city}.")
    return {"city": city, **FORECASTS[city]}
