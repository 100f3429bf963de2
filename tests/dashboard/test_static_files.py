"""plotly.js is served by the app itself, once per page, as a file browsers keep."""

from constraints.dashboard.charts import PLOTLY_JS


def test_it_serves_the_vendored_plotly_with_a_far_future_cache(client, db):
    response = client.get(f"/static/{PLOTLY_JS}")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]


def test_it_serves_page_assets_with_a_short_cache(client, db):
    response = client.get("/static/js/dashboard.js")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
