import csv
import io
import re

from django.urls import reverse

URL = reverse("constraints-dashboard")
CSV_URL = reverse("constraints-dashboard-csv")


def page_table(html: str) -> list[list[str]]:
    """Per row of the decision table: channel, the cells' data-value, the recommendation."""
    body = html.split('<table class="decision-table">')[1].split("</table>")[0]
    rows = []
    for row in body.split("<tbody>")[1].split("</tr>")[:-1]:
        channel = re.search(r'<th scope="row" class="col-channel">([^<]+)</th>', row).group(1)
        values = re.findall(r'data-value="([^"]*)"', row)
        advice = re.search(r'class="advice advice-(\w+)"', row).group(1)
        rows.append([channel, *values, advice])
    return rows


def csv_table(content: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(content.decode())))
    values = [i for i, name in enumerate(header) if re.search(r"_(yesterday|7d|28d)$", name)]
    action = header.index("recommendation")
    return header, [[r[0], *[r[i] for i in values], r[action]] for r in rows]


def test_it_downloads_exactly_the_table_the_page_shows(staff_client, demo):
    html = staff_client.get(URL).content.decode()
    response = staff_client.get(CSV_URL)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, rows = csv_table(response.content)
    assert rows == page_table(html)
    assert len(rows) == 5
    assert header[:5] == ["channel", "cpa_yesterday", "cpa_7d", "cpa_28d", "cpa_target"]
    assert header[-3:] == ["recommendation", "reason", "based_on"]


def test_it_applies_the_same_filters(staff_client, demo):
    query = {"period": 7, "channel": "google-ads"}
    html = staff_client.get(URL, query).content.decode()
    _, rows = csv_table(staff_client.get(CSV_URL, query).content)
    assert rows == page_table(html)
    assert [r[0] for r in rows] == ["Google Ads"]
    assert f"{CSV_URL}?period=7&amp;channel=google-ads" in html


def test_it_carries_the_reason_in_words(staff_client, demo):
    rows = list(csv.DictReader(io.StringIO(staff_client.get(CSV_URL).content.decode())))
    google = next(r for r in rows if r["channel"] == "Google Ads")
    assert google["recommendation"] == "hold"  # blended CAC overrules the rule's raise
    assert google["based_on"] == "Rule: Scale efficient search"
    assert "waiting for your approval" in google["reason"]


def test_it_requires_login(client, demo):
    assert client.get(CSV_URL).status_code == 302


def test_it_gives_just_a_header_without_data(staff_client, cac):
    header, rows = csv_table(staff_client.get(CSV_URL).content)
    assert rows == [] and header[0] == "channel"
