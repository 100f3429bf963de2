#!/usr/bin/env python
"""How long the dashboard takes in a real browser, against a bare page of the same server.

Drives headless Chromium (Playwright) against a running server on demo data (start it as
`scripts/run` does: collectstatic, then the server). Logs in once, then for RUNS rounds:

- cold: a fresh browser profile (empty cache) opens `/` and waits for the last chart drawn;
- warm: the same profile opens `/` again (plotly.js and the CSS from the cache);
- bare cold / bare warm: the same for a bare page of the same server: the password change
  page, signed in (base.html: the app's CSS and favicon, the top bar, a small form, no
  script), through the same middleware and session as the dashboard.

Time is navigation timing: from the start of the navigation to the last chart's
`chart-drawn` mark, which the page script sets when plotly has drawn it (the page), or to
the load event (the bare page). Bytes are what went over the wire (transferSize of the
document and every resource, compressed; 0 for a file the cache answered without asking);
requests are the resources fetched from the server. Prints medians and the page's ratios to
the bare page; the aim is cold ≤ 2.5× and warm ≤ 1.5×.

    benchmarks/page_load --url http://127.0.0.1:8000 --username founder --password …
    (or DH_USERNAME / DH_PASSWORD in the environment)
"""

import argparse
import os
import statistics

RUNS = 7
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
BARE_PATH = "/password/"  # base.html with a small form: the app's barest signed-in page
CHARTS_DRAWN = (
    "[...document.querySelectorAll('.plot')].length > 0 && "
    "[...document.querySelectorAll('.plot')].every(n => n.dataset.rendered === 'true')"
)
# The page script marks each chart when drawn; the last mark is when the page is usable.
MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const bytes = resources.reduce((sum, r) => sum + r.transferSize, nav.transferSize);
  const plotly = resources.filter(r => r.name.includes('plotly'))
                          .reduce((sum, r) => sum + r.transferSize, 0);
  const asked = resources.filter(r => r.transferSize > 0).length;
  const drawn = performance.getEntriesByName('chart-drawn').map(m => m.startTime);
  return {load: nav.loadEventEnd, drawn: Math.max(...drawn), bytes, plotly, asked};
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default=os.environ.get("DH_USERNAME", "admin"))
    parser.add_argument("--password", default=os.environ.get("DH_PASSWORD", ""))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        state = log_in(browser, args)
        rows = [one_round(browser, args.url, state) for _ in range(args.runs)]
        browser.close()
    report(rows, runs=args.runs)


def log_in(browser, args) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{args.url}/")
    page.fill("#id_username", args.username)
    page.fill("#id_password", args.password)
    page.click("[type=submit]")
    page.wait_for_url(f"{args.url}/")
    state = context.storage_state()
    context.close()
    return state


def one_round(browser, url: str, state: dict) -> dict:
    """Cold then warm, for the page and for the bare page, each in a fresh profile."""
    row = {}
    for name, path, ready in (("page", "/", CHARTS_DRAWN), ("bare", BARE_PATH, None)):
        context = browser.new_context(storage_state=state, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        for when in ("cold", "warm"):
            row[f"{name} {when}"] = visit(page, f"{url}{path}", ready)
        context.close()
    return row


def visit(page, address: str, ready: str | None) -> dict:
    page.goto(address, wait_until="load")
    if ready:
        page.wait_for_function(ready, timeout=30_000)
    figures = page.evaluate(MEASURE)
    figures["ms"] = figures["drawn"] if ready else figures["load"]
    return figures


def report(rows: list[dict], *, runs: int) -> None:
    print(f"median of {runs} rounds, headless Chromium 1280×800, navigation start → ready")
    print(f"{'':12} {'ms':>8} {'bytes':>11} {'plotly bytes':>13} {'requests':>9}")
    medians = {}
    for key in rows[0]:
        ms = statistics.median(r[key]["ms"] for r in rows)
        size = statistics.median(r[key]["bytes"] for r in rows)
        plotly = statistics.median(r[key]["plotly"] for r in rows)
        asked = statistics.median(r[key]["asked"] for r in rows)
        medians[key] = ms
        print(f"{key:12} {ms:8.0f} {size:11,.0f} {plotly:13,.0f} {asked:9.0f}")
    for when, aim in (("cold", 2.5), ("warm", 1.5)):
        ratio = medians[f"page {when}"] / medians[f"bare {when}"]
        verdict = "within" if ratio <= aim else "OVER"
        print(f"{when}: page / bare page = {ratio:.2f}× ({verdict} the aim of {aim}×)")


if __name__ == "__main__":
    main()
