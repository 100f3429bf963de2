import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from constraints import metrics
from constraints.dashboard.charts import BUNDLE_TRACES
from constraints.models import Constraint, Decision, Delivery, Metric
from sources.days import yesterday
from sources.models import Measure, Source, SyncRun
from tests.factories import demo_data

URL = reverse("constraints-dashboard")


def headline_value(constraint: Constraint, *, days: int, channel: str = "") -> float:
    """The headline computed independently, from the raw rows."""
    until = yesterday()
    since = until - dt.timedelta(days=days - 1)
    rows = Measure.objects.for_window(since, until)
    if channel:
        rows = rows.filter(channel__key=channel)
    return metrics.total(rows.to_frame(), constraint.headline, since=since, until=until)


def table_rows(html: str) -> list[str]:
    body = html.split('<table class="decision-table">')[1].split("</table>")[0]
    return re.findall(r'<th scope="row" class="col-channel">([^<]+)</th>', body)


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_it_shows_the_headline_against_target_and_previous_period(staff_client, demo):
    page = staff_client.get(URL).context["page"]
    value = headline_value(demo["constraint"], days=28)
    assert page.headline.reading.value == pytest.approx(value)
    assert page.headline.previous.value is not None
    html = staff_client.get(URL).content.decode()
    assert f"${value:,.0f}" in html
    assert "target $420" in html and "vs the previous 28 days" in html


def test_it_shows_a_row_per_channel_with_a_recommendation(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    assert table_rows(html) == ["Email", "Google Ads", "LinkedIn Ads", "Meta Ads", "Organic Search"]
    assert html.count('class="advice advice-') == 5
    # Google Ads has today's proposal: the rule's decision is its recommendation.
    assert "Rule: Scale efficient search" in html
    assert "waiting for your approval" in html
    assert "Drivers vs targets" in html  # channels without a decision today


def test_it_says_where_recommendations_come_from(staff_client, cac):
    demo_data(days=30)
    html = staff_client.get(URL).content.decode()
    assert "No rule decided anything today" in html


def test_it_labels_every_cell_in_words_not_only_colour(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    cells = re.findall(r'<td class="cell verdict-(\w+)[^"]*"', html)
    assert len(cells) == 5 * 3 * 3
    assert html.count("on target</span>") + html.count("off target</span>") + html.count(
        "no data</span>"
    ) == len(cells)
    assert re.search(r'<span class="visually-hidden">\d+% (above|below) target \$47', html)


def test_it_filters_the_period(staff_client, demo):
    page = staff_client.get(URL, {"period": 7}).context["page"]
    assert page.filters.period == 7
    assert page.headline.reading.value == pytest.approx(headline_value(demo["constraint"], days=7))


def test_it_falls_back_to_28_days_for_an_unknown_period(staff_client, demo):
    assert staff_client.get(URL, {"period": "13"}).context["page"].filters.period == 28
    assert staff_client.get(URL, {"period": "x"}).context["page"].filters.period == 28


def test_it_filters_one_channel(staff_client, demo):
    response = staff_client.get(URL, {"channel": "meta-ads"})
    assert table_rows(response.content.decode()) == ["Meta Ads"]
    expected = headline_value(demo["constraint"], days=28, channel="meta-ads")
    assert response.context["page"].headline.reading.value == pytest.approx(expected)


def test_it_says_when_the_channel_is_unknown(staff_client, demo):
    html = staff_client.get(URL, {"channel": "myspace"}).content.decode()
    assert "There is no channel “myspace”" in html
    assert len(table_rows(html)) == 5


def test_it_loads_plotly_once_and_inlines_each_figure(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    assert len(re.findall(r"<script[^>]+vendor/plotly-[\w.-]+\.min\.js", html)) == 1
    # No script or style from another host (not a bare "cdn": a CSRF token may contain it).
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count('type="application/json"') == 4
    assert html.count('role="img" aria-label="') == 4


def test_it_shows_one_legend_for_the_driver_charts(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    legend = html.split('<ul class="chart-legend"')[1].split("</ul>")[0]
    figures = re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', html)
    lines = {
        t["legendgroup"]: t for f in figures for t in json.loads(f)["data"] if "legendgroup" in t
    }
    listed = re.findall(
        r'data-channel="([^"]+)"><span class="swatch" style="--swatch: (#\w+)"', legend
    )
    assert lines and sorted(listed) == sorted((k, t["line"]["color"]) for k, t in lines.items())
    assert all(f"{t['name']}</li>" in legend for t in lines.values())


def test_it_draws_only_trace_types_the_shipped_bundle_has(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    figures = re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', html)
    types = {trace.get("type", "scatter") for f in figures for trace in json.loads(f)["data"]}
    assert types and types <= BUNDLE_TRACES


def test_it_lists_pending_actions_with_approve_and_reject(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    pk = demo["proposed"].pk
    assert reverse("constraints-decision-approve", kwargs={"pk": pk}) in html
    assert reverse("constraints-decision-reject", kwargs={"pk": pk}) in html
    assert "Raise daily budget by 20% · Google Ads" in html


def test_it_hides_the_buttons_from_a_viewer(client, demo, django_user_model):
    from tests.factories import grant

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    grant(viewer, "Viewer")
    client.force_login(viewer)
    html = client.get(URL).content.decode()
    assert "Raise daily budget by 20%" in html
    assert reverse("constraints-decision-approve", kwargs={"pk": demo["proposed"].pk}) not in html


def test_it_shows_the_audit_and_open_alerts_only(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    recent = html.split('id="recent"')[1]
    assert "Lower daily budget by 15%" in recent and "Applied" in recent
    section = html.split('id="alerts"')[1].split("</section>")[0]
    alerts, answered = section.split('id="answered-alerts"')
    assert "Meta Ads pull failed twice" in alerts
    assert "Google Ads spend 2.4×" in alerts
    assert "Email sessions dropped" not in alerts  # snoozed until tomorrow…
    assert "Email sessions dropped" in answered  # …and listed with the answered ones
    assert "GA4 quota exceeded" not in section  # resolved


def test_it_shows_freshness_without_a_banner_when_data_is_current(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    freshness = html.split('id="freshness"')[1]
    assert "Demo data" in freshness and "up to date" in freshness
    assert "Some data is stale" not in html


def test_it_warns_when_a_source_the_decision_needs_is_stale(staff_client, demo):
    hubspot = Source.objects.create(key="hubspot", name="HubSpot", kind=Source.Kind.HUBSPOT)
    SyncRun.objects.create(
        source=hubspot, since=yesterday() - dt.timedelta(days=5),
        until=yesterday() - dt.timedelta(days=3), status=SyncRun.Status.SUCCEEDED,
    )  # fmt: skip
    html = staff_client.get(URL).content.decode()
    assert "Some data is stale" in html
    assert "HubSpot has data up to" in html and "3 days behind" in html


def test_it_ignores_stale_sources_the_metrics_do_not_read(staff_client, demo):
    Metric.objects.filter(constraint=demo["constraint"]).update(source_kinds=["demo"])
    Source.objects.create(key="stripe", name="Stripe", kind=Source.Kind.STRIPE)
    html = staff_client.get(URL).content.decode()
    assert "never pulled" in html.split('id="freshness"')[1]
    assert "Some data is stale" not in html


def test_it_shows_times_in_the_business_time_zone(staff_client, demo, settings):
    settings.BUSINESS_TIMEZONE = "Pacific/Auckland"
    run = SyncRun.objects.get()
    html = staff_client.get(URL).content.decode()
    local = run.finished_at.astimezone(dt.timezone(dt.timedelta(hours=13)))
    assert local.strftime("%-d %b %H:%M") in html.split('id="freshness"')[1]


def test_it_recommends_from_a_decision_on_one_of_the_channels_campaigns(staff_client, demo):
    Decision.objects.create(
        rule=demo["dry_run"].rule, target="campaign:demo:23850002", target_label="Retargeting",
        period=yesterday(), idempotency_key="pause:23850002", status=Decision.Status.DRY_RUN,
        reason="Retargeting CPA three times the target",
    )  # fmt: skip
    rows = {r.channel.key: r for r in staff_client.get(URL).context["page"].rows}
    assert rows["meta-ads"].recommendation.action == "pause"
    assert rows["meta-ads"].recommendation.reason.startswith("Retargeting CPA three times")
    # The rule asks to raise on platform CPA, but Google's own blended CAC is off target.
    google = rows["google-ads"].recommendation
    assert google.action == "hold" and google.decision is not None
    assert "asks to raise" in google.reason and "the advice follows Blended CAC" in google.reason


def test_it_keeps_filter_values_safe_in_links(staff_client, demo):
    html = staff_client.get(URL, {"channel": "x&period=90"}).content.decode()
    assert "channel=x%26period%3D90" in html


def test_it_points_the_favicon_at_the_static_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("favicon.svg")


def test_it_reads_a_headline_without_a_target(staff_client, demo):
    Metric.objects.filter(key="blended_cac").update(target=None)
    html = staff_client.get(URL).content.decode()
    assert "no target set" in html and "verdict-none" in html
    assert "Target $" not in html.split('id="chart-blended_cac-data"')[1].split("</script>")[0]


def test_it_says_where_each_alerts_message_went(staff_client, demo):
    held = Delivery.objects.create(
        key="held-1", message="m1", transport=Delivery.Transport.SLACK, state=Delivery.State.HELD
    )
    held.alerts.add(demo["spike"])
    alerts = staff_client.get(URL).content.decode().split('id="alerts"')[1]
    spike = alerts.split("Google Ads spend")[1]
    assert "message: held for the weekly digest" in spike
    assert "message: not sent yet" in alerts.split("Meta Ads pull failed twice")[1]


def test_it_tags_yesterday_as_settling_and_shows_revised_decisions(staff_client, cac):
    """A Meta source whose conversions settle after 5 days: yesterday is settling."""
    import datetime as dt

    from constraints.models import Decision, Rule
    from sources.days import yesterday
    from sources.models import Channel, Measure, Source

    channel = Channel.objects.create(key="meta-ads", name="Meta Ads")
    meta = Source.objects.create(key="meta-ads", name="Meta Ads", kind="meta_ads", channel=channel)
    for name in ("spend", "conversions"):
        Measure.objects.create(source=meta, channel=channel, date=yesterday(), name=name, value=9)
    rule = Rule.objects.create(constraint=cac, name="Pause Meta", action=Rule.Action.PAUSE)
    Decision.objects.create(
        rule=rule,
        target="channel:meta-ads",
        period=yesterday(),
        idempotency_key="k",
        status=Decision.Status.APPLIED,
        revised_note="inputs revised: would now not pause it (cpa 33.33, rule: > 55)",
    )
    html = staff_client.get("/").content.decode()
    settled_until = yesterday() - dt.timedelta(days=4)
    assert 'class="settling-tag"' in html
    assert f"Meta Ads is settled up to {settled_until:%a} {settled_until.day}" in html
    assert "inputs revised: would now not pause it" in html
    # Meta's default curve: 75 % of conversions at age 1, so CPA $1.00 is expected at $0.75.
    assert "Expected once settled: Cost per acquisition Meta Ads $0.75 (now $1.00)" in html
