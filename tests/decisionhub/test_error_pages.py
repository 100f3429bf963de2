"""The 404 and 500 pages and the admin's header are decisionhub's, not Django's stock ones."""

from django.test import RequestFactory
from django.views.defaults import server_error


def test_it_shows_our_404_page(admin_client):
    response = admin_client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html and 'class="topbar"' in html
    assert "Back to today’s decision" in html


def test_it_shows_our_500_page_without_a_request_context(db):
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "css/app.css" in html


def test_it_names_decisionhub_in_the_admin_header(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "decisionhub administration" in html
    assert "Django administration" not in html


def test_it_edits_a_users_slack_member_id_in_the_admin(admin_client, admin_user):
    html = admin_client.get(f"/admin/auth/user/{admin_user.pk}/change/").content.decode()
    assert 'name="slack_identity-0-member_id"' in html
