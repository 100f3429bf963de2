"""Channel names as platforms spell them, resolved to channels."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sources.models import Channel, ChannelAlias


def test_it_resolves_many_names_as_resolve_does_each(db):
    search = Channel.objects.create(key="search", name="Search")
    ChannelAlias.objects.create(alias="paid search", channel=search)
    ChannelAlias.objects.create(alias="google / cpc", channel=search)
    ids = Channel.objects.resolve_ids(["Paid_Search", "google / cpc", "Newsletter", ""])
    assert ids["Paid_Search"] == ids["google / cpc"] == search.pk
    assert ids["Newsletter"] == Channel.objects.get(key="newsletter").pk  # created, as resolve
    assert ids[""] == Channel.objects.resolve("").pk
    assert ids == {raw: Channel.objects.resolve(raw).pk for raw in ids}


def test_mapped_names_are_resolved_in_one_query(db):
    search = Channel.objects.create(key="search", name="Search")
    for alias in ("paid search", "google / cpc", "bing / cpc"):
        ChannelAlias.objects.create(alias=alias, channel=search)
    with CaptureQueriesContext(connection) as queries:
        ids = Channel.objects.resolve_ids(["Paid Search", "google / cpc", "BING / CPC"])
    assert set(ids.values()) == {search.pk}
    assert len(queries) == 1
