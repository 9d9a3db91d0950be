"""The interactive API documentation in a real browser: Swagger UI, served
from the portal's own static files, renders the schema's endpoints."""

from __future__ import annotations

import pytest

from tests.test_browser import browser, log_in, page, screenshot, world  # noqa: F401

pytestmark = pytest.mark.browser


def test_swagger_ui_shows_the_api_without_any_outside_request(page, world, live_server):  # noqa: F811
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(live_server.url) or r.url.startswith("data:")
            else outside.append(r.url)
        ),
    )
    log_in(page, world.users["county"].username)
    page.goto("/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Kaitai API" in page.locator(".swagger-ui .info .title").inner_text()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/signins/" in paths and "/api/v1/stats/overview/" in paths
    screenshot(page, "api-docs")
    assert outside == []
