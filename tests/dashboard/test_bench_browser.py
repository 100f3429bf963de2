"""The operator's bench in a real browser: switching constraints with its preview, and the
rule form's Backtest and Evaluate now buttons on a form never saved."""

import pytest
from django.contrib.auth.models import Group, User

from tests.dashboard.test_browser import ARTIFACTS, CHROMIUM_ARGS, chromium_path
from tests.factories import cac_constraint, demo_data, rules_and_decisions

PASSWORD = "correct horse battery"


@pytest.fixture
def bench_site(transactional_db):
    constraint = cac_constraint()
    demo_data(days=60)
    rules_and_decisions(constraint)
    if not Group.objects.filter(name="Operator").exists():  # flushed by an earlier live test
        import importlib

        from django.apps import apps

        roles = importlib.import_module("constraints.migrations.0006_roles")
        roles.create_groups(apps, None)
    user = User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))


@pytest.fixture
def browser(bench_site):
    path = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser, live_server, *, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/admin/login/?next=/constraints/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/constraints/")
    return page, errors


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_it_previews_and_switches_the_constraint(live_server, browser, width):
    page, errors = signed_in(browser, live_server, width=width)
    page.get_by_role("link", name="Switch constraint").click()
    page.get_by_role("link", name="Preview LTV and retention").click()
    preview = page.locator("#preview")
    assert "Revenue per customer" in preview.inner_text()
    assert "3 enabled rules disabled" in preview.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"switch-preview-{width}.png"), full_page=True)
    page.get_by_role("button", name="Switch to LTV and retention").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "LTV and retention is now the active constraint" in page.inner_text(".messages")
    assert "Nothing is waiting for you." in page.locator("#pending").inner_text()
    page.goto(f"{live_server.url}/constraints/")
    page.get_by_role("link", name="CAC efficiency").click()
    assert "Archived · read-only." in page.inner_text("main")
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_it_backtests_and_evaluates_an_unsaved_rule(live_server, browser, width):
    page, errors = signed_in(browser, live_server, width=width)
    page.goto(f"{live_server.url}/admin/constraints/rule/add/")
    page.select_option("#id_constraint", label="CAC efficiency")
    page.fill("#id_name", "Scale cheap conversions")
    page.select_option("#id_action", "raise_budget")
    page.fill("#id_action_value", "20")
    page.fill("#id_cooldown_days", "3")
    page.select_option("#id_conditions-0-metric_key", "cpa")
    page.select_option("#id_conditions-0-comparator", "gt")
    page.fill("#id_conditions-0-threshold", "0")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_role("button", name="Backtest").click()
    page.wait_for_selector(".bench-plot[data-rendered=true]", timeout=60_000)
    result = page.locator(".bench-backtest").inner_text()
    assert "Fires on 60 of 90 days" in result and "cooling down" in result
    assert "30 days skipped (incomplete data)" in result
    assert "Cumulative spend change" in result
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#rule-bench").screenshot(path=str(ARTIFACTS / f"rule-backtest-{width}.png"))
    page.get_by_role("button", name="Evaluate now (dry run)").click()
    page.wait_for_selector(".bench-dry-run")
    assert "Would raise the daily budget by 20%." in page.locator(".bench-dry-run").inner_text()
    page.goto(f"{live_server.url}/admin/constraints/rule/")
    assert "Scale cheap conversions" not in page.inner_text("#content")
    for name in (
        "constraints/rule",
        "constraints/decision",
        "constraints/alert",
        "sources/syncrun",
    ):
        page.goto(f"{live_server.url}/admin/{name}/")
        cut = page.evaluate(
            "[...document.querySelectorAll('.results')].map(n => n.scrollWidth - n.clientWidth)"
        )
        assert width < 1280 or max(cut, default=0) <= 0, f"{name} does not fit {width} px"
    assert errors == []
