"""The dashboard in a real browser: headless Chromium, driven by Playwright, against a live
server on demo data."""

import json
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.factories import alerts, cac_constraint, demo_data, rules_and_decisions, staff_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"


def chromium_path() -> str:
    """The Chromium binary; a missing one fails the test in CI and skips it locally."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not (Path(path).is_file() or shutil.which(path)):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {path} (CHROMIUM_PATH) and CI is set.")
        pytest.skip(f"Chromium not found at {path}; set CHROMIUM_PATH to run browser tests.")
    return path


@pytest.fixture
def browser(demo_site):
    """Chromium, started after the data exists. Playwright's sync API runs an event loop in
    this thread until the browser closes: the test itself touches only the page, never the
    ORM, and the database is set up before and flushed after that loop."""
    path = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_site(transactional_db):
    constraint = cac_constraint()
    demo_data(days=120)
    decisions = rules_and_decisions(constraint)
    alerts()
    staff_user("founder")
    get_user_model().objects.create_superuser("operator", "", PASSWORD)
    return decisions


def open_dashboard(browser, live_server, *, width: int, height: int, javascript: bool = True):
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=javascript
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "founder")
    page.fill("#id_password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    if javascript:
        page.wait_for_function(
            "[...document.querySelectorAll('.plot')].every(n => n.dataset.rendered === 'true')"
        )
    return page, errors


def in_first_screen(page, locator) -> bool:
    """Wholly inside the viewport as it is now (no scrolling)."""
    box = locator.bounding_box()
    height, width = page.viewport_size["height"], page.viewport_size["width"]
    return (
        box is not None
        and 0 <= box["y"]
        and box["y"] + box["height"] <= height
        and (0 <= box["x"] and box["x"] + box["width"] <= width)
    )


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_it_shows_the_day_and_its_first_approval_on_the_first_screen(
    live_server, browser, width, height
):
    page, errors = open_dashboard(browser, live_server, width=width, height=height)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"today-{width}.png"))
    sentence = page.locator(".today-sentence")
    assert "1 budget raise on Google Ads" in sentence.inner_text()
    assert in_first_screen(page, sentence)
    approve = page.locator("#today .proposal").first.get_by_role("button", name="Approve")
    assert in_first_screen(page, approve)
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_confirms_an_approval_where_it_was_clicked(live_server, browser, javascript):
    page, errors = open_dashboard(
        browser, live_server, width=390, height=844, javascript=javascript
    )
    page.locator("#today .proposal").first.get_by_role("button", name="Approve").click()
    confirmation = page.locator("#today .confirmation, #today .messages li").first
    confirmation.wait_for()
    assert confirmation.inner_text().startswith("Approved: Scale efficient search")
    assert in_first_screen(page, confirmation)
    if javascript:  # answered in place: no navigation happened
        assert page.url == f"{live_server.url}/"
    page.screenshot(path=str(ARTIFACTS / f"approved-{'js' if javascript else 'nojs'}.png"))
    page.goto(f"{live_server.url}/")
    assert "Nothing is waiting for you." in page.locator("#pending").inner_text()
    assert errors == []


@pytest.mark.browser
def test_it_renders_every_chart_and_approves_a_pending_action(live_server, browser):
    page, errors = open_dashboard(browser, live_server, width=1280, height=900)
    plots = page.locator(".plot")
    assert plots.count() == 4
    for index in range(plots.count()):
        assert plots.nth(index).locator("svg.main-svg").count() > 0
        assert plots.nth(index).locator(".scatterlayer .trace").count() > 0
    assert page.locator(".decision-table tbody tr").count() == 5
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)

    page.get_by_role("button", name="Approve").first.click()
    page.locator("#today .confirmation").wait_for()
    page.goto(f"{live_server.url}/")
    assert "Nothing is waiting for you." in page.locator("#pending").inner_text()
    audit = page.locator("#recent tbody tr").first.inner_text()
    assert "Raise daily budget" in audit and "Applied (simulated" in audit and "founder" in audit
    assert errors == []


@pytest.mark.browser
def test_the_legend_hides_and_shows_a_channel_in_every_driver_chart(live_server, browser):
    page, errors = open_dashboard(browser, live_server, width=1280, height=800)
    button = page.locator(".chart-legend li[data-channel]").first.get_by_role("button")
    key = page.locator(".chart-legend li[data-channel]").first.get_attribute("data-channel")
    visible = f"""() => [...document.querySelectorAll('.plot')].flatMap(n => n.data)
        .filter(t => t.legendgroup === {json.dumps(key)}).map(t => t.visible !== false)"""
    assert page.evaluate(visible) and all(page.evaluate(visible))
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    assert not any(page.evaluate(visible))
    button.click()
    assert button.get_attribute("aria-pressed") == "true" and all(page.evaluate(visible))
    assert errors == []


@pytest.mark.browser
def test_it_is_readable_on_a_phone(live_server, browser):
    page, errors = open_dashboard(browser, live_server, width=390, height=844)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone (only the table may)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    assert errors == []


def watch(page) -> list[str]:
    """Console errors and Content-Security-Policy violations the page reports."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_login_page_is_ours_and_passes_the_policy(live_server, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors = watch(page)
    response = page.goto(f"{live_server.url}/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"login-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.fill("#id_username", "founder")
    page.fill("#id_password", "wrong")
    page.click("form.stacked button[type=submit]")
    assert "correct username and password" in page.locator(".form-errors").inner_text()
    assert errors == []


@pytest.mark.browser
def test_the_admin_passes_the_content_security_policy(live_server, browser):
    """The admin's own pages and scripts (inlines, the channel picker) run under the policy."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in [
        "/admin/constraints/rule/add/",
        "/admin/constraints/rule/",
        "/admin/sources/source/",
        "/admin/constraints/constraint/1/change/",
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200 and "content-security-policy" in response.headers
        page.wait_for_load_state("load")
    page.goto(f"{live_server.url}/admin/constraints/rule/add/")
    page.get_by_text("Add another Condition").click()  # the inline's script ran
    assert page.locator(".dynamic-conditions").count() >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-rule-add.png"))
    assert errors == []
