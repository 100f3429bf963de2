from django.urls import reverse

from constraints.models import Metric
from sources.models import Source

URL = reverse("constraints-dashboard")


def test_it_guides_to_a_template_when_there_is_no_constraint(staff_client):
    html = staff_client.get(URL).content.decode()
    assert "No active constraint yet" in html
    assert "python manage.py apply_template cac-efficiency" in html
    assert "python manage.py demo" in html


def test_it_lists_what_an_incomplete_constraint_lacks(staff_client, cac):
    Metric.objects.filter(constraint=cac, key="lead_quality").delete()
    html = staff_client.get(URL).content.decode()
    assert "is not complete" in html
    assert "needs exactly three driver metrics, has 2" in html
    assert "vendor/plotly" not in html  # no charts, no library
    assert reverse("admin:constraints_constraint_change", args=[cac.pk]) in html


def test_it_says_which_sources_to_set_up_when_there_are_none(staff_client, cac):
    html = staff_client.get(URL).content.decode()
    assert "No numbers for the last 28 days" in html
    assert "No data source is set up yet" in html
    assert "<code>spend</code> — from Google Ads or Meta Ads" in html
    assert "<code>sessions</code> — from Google Analytics 4" in html
    assert "<code>qualified_leads</code> — from HubSpot" in html
    assert reverse("admin:sources_source_add") in html
    assert 'class="plot"' not in html
    # plotly is loaded all the same: the head leaves before the page knows there is no data.


def test_it_says_sources_delivered_nothing_when_they_exist(staff_client, cac):
    Source.objects.create(key="ga4", name="GA4", kind=Source.Kind.GA4)
    html = staff_client.get(URL).content.decode()
    assert "Your sources delivered nothing the metrics read" in html
    assert "never pulled" in html


def test_it_names_missing_measures_when_some_data_exists(staff_client, cac, demo_source, day):
    demo_source.measures = ["spend", "conversions", "customers"]
    demo_source.save()
    from tests.factories import demo_channels

    demo_channels()
    from sources.days import yesterday
    from sources.pipeline import pull

    pull(source=demo_source, since=yesterday(), until=yesterday())
    html = staff_client.get(URL).content.decode()
    assert "No rows yet for" in html
    assert "<code>sessions</code> (set up Google Analytics 4)" in html
    assert "<code>leads</code> (set up HubSpot)" in html


def test_it_offers_all_channels_when_the_chosen_one_has_no_data(staff_client, cac):
    from sources.models import Channel

    Channel.objects.create(key="tiktok", name="TikTok")
    html = staff_client.get(URL, {"channel": "tiktok", "period": 7}).content.decode()
    assert "TikTok has no rows the metrics read" in html
    assert '<a href="?period=7">Show all channels</a>' in html
    assert "measure-list" not in html
