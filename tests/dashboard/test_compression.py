"""The page is sent gzipped to browsers that accept it, and plain to those that do not; gzipped,
its head still leaves first."""

import gzip
import zlib

import pytest
from django.test import Client
from django.urls import reverse

from constraints.dashboard import views

URL = reverse("constraints-dashboard")


def test_it_gzips_the_page_for_browsers_that_accept_it(staff_client, cac):
    response = staff_client.get(URL, headers={"accept-encoding": "gzip, deflate, br"})
    assert response["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.content)
    assert b"</html>" in html
    assert len(response.content) < len(html)


def test_it_sends_the_page_plain_without_accept_encoding(staff_client, cac):
    response = staff_client.get(URL)
    assert not response.has_header("Content-Encoding")
    assert b"</html>" in response.content


def test_it_sends_the_gzipped_head_before_the_rest_is_computed(staff, cac, monkeypatch):
    client = Client()  # Django's: the chunks one by one, as they leave
    client.force_login(staff)
    monkeypatch.setattr(views, "complete", lambda **kwargs: pytest.fail("computed too soon"))
    response = client.get(URL, headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    reader, chunks = zlib.decompressobj(wbits=31), iter(response.streaming_content)
    head = reader.decompress(next(chunks)) + reader.decompress(next(chunks))
    assert b"</head>" in head and b"vendor/plotly" in head
