"""The page is sent gzipped to browsers that accept it, and plain to those that do not."""

import gzip

from django.urls import reverse

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
