"""The dashboard is streamed: its head (the CSS, plotly's script) leaves before the page's
numbers are computed, and what must be settled before the first byte is."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from constraints.dashboard import views
from tests.clients import WholePageClient

URL = reverse("constraints-dashboard")


@pytest.fixture
def completed(monkeypatch) -> list[object]:
    """The pages whose numbers were computed, in order."""
    pages: list[object] = []
    complete = views.complete

    def recording(*, page, **options):
        pages.append(page)
        complete(page=page, **options)

    monkeypatch.setattr(views, "complete", recording)
    return pages


@pytest.fixture
def streaming_client(staff) -> Client:
    """Django's own client: the response's chunks are read one by one, as they are sent."""
    client = Client()
    client.force_login(staff)
    return client


def test_it_sends_the_head_before_the_numbers_are_computed(streaming_client, demo, completed):
    chunks = iter(streaming_client.get(URL).streaming_content)
    head = next(chunks).decode()
    assert "</head>" in head and "vendor/plotly" in head and "<title>CAC" in head
    assert completed == []
    body = b"".join(chunks).decode()
    assert len(completed) == 1
    assert 'class="decision-table"' in body and body.rstrip().endswith("</html>")


def test_it_sets_the_csrf_cookie_with_the_headers(db, staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.get(URL)
    assert "csrftoken" in response.cookies
    b"".join(response.streaming_content)


def test_it_shows_a_message_once(staff_client, demo):
    approve = reverse("constraints-decision-approve", kwargs={"pk": demo["proposed"].pk})
    staff_client.post(approve)
    assert "Approved: Scale efficient search" in staff_client.get(URL).content.decode()
    assert "Approved: Scale efficient search" not in staff_client.get(URL).content.decode()


def test_it_ends_the_page_with_an_error_and_logs_it(staff, demo, monkeypatch, caplog):
    def failing(**kwargs):
        raise RuntimeError("the numbers broke")

    monkeypatch.setattr(views, "complete", failing)
    client = WholePageClient(raise_request_exception=False)  # else it re-raises: it was told
    client.force_login(staff)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200  # sent with the head, before the error
    assert "Something went wrong on our side" in html and html.rstrip().endswith("</html>")
    assert 'class="decision-table"' not in html
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR and URL in record.getMessage()
    assert "the numbers broke" in str(record.exc_info[1])
