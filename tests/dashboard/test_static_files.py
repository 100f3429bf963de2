"""plotly.js is served by the app itself, once per page, as a file browsers keep."""

import re

from django.core.management import call_command
from django.templatetags.static import static

from constraints.dashboard.charts import BUNDLE_TRACES, PLOTLY_JS


def test_it_serves_the_vendored_plotly_with_a_far_future_cache(client, db):
    response = client.get(f"/static/{PLOTLY_JS}")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]


def test_it_serves_page_assets_with_a_short_cache(client, db):
    response = client.get("/static/js/dashboard.js")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


def test_the_vendored_bundle_registers_every_trace_type_it_is_said_to_have(settings):
    bundle = (settings.BASE_DIR / "static" / PLOTLY_JS).read_text()
    for trace in BUNDLE_TRACES:
        assert f'moduleType:"trace",name:"{trace}"' in bundle


def test_a_run_serving_collected_files_names_them_by_hash_and_caches_them_for_good(
    client, db, tmp_path, settings
):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "constraints.staticfiles.CollectedStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "-v", "0")
    settings.DEBUG, settings.WHITENOISE_USE_FINDERS = True, False  # as scripts/run serves
    address = static("css/app.css")
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", address)
    response = client.get(address)
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
