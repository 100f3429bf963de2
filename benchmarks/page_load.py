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
the bare page, and the load average; the aim is cold ≤ 2.5× and warm ≤ 1.5×.

    benchmarks/page_load --url http://127.0.0.1:8000 --username founder --password …
    (or DH_USERNAME / DH_PASSWORD in the environment)

Given --url twice or more (say main's code and a branch's, each on its own port and
database), the rounds alternate between the servers in one browser, each server first in
every other round, and the ratios are also given against the bare page pooled over all of
them: on a shared machine load moves times by 2×, so only servers measured side by side
compare.
"""

import argparse
import os
import statistics
from itertools import cycle

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
    parser.add_argument("--url", action="append", help="default http://127.0.0.1:8000")
    parser.add_argument("--username", default=os.environ.get("DH_USERNAME", "admin"))
    parser.add_argument("--password", default=os.environ.get("DH_PASSWORD", ""))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    urls = args.url or ["http://127.0.0.1:8000"]
    from playwright.sync_api import sync_playwright

    loads = [os.getloadavg()[0]]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        states = {url: log_in(browser, url, args) for url in urls}
        rows = {url: [] for url in urls}
        for order, _ in zip(cycle((urls, urls[::-1])), range(args.runs)):
            for url in order:
                rows[url].append(one_round(browser, url, states[url]))
            loads.append(os.getloadavg()[0])
        browser.close()
    pooled = {
        key: [r[key] for url in urls for r in rows[url]] for key in ("bare cold", "bare warm")
    }
    for url in urls:
        print(f"\n{url}")
        report(rows[url], runs=args.runs, pooled=pooled if len(urls) > 1 else None)
    print(f"\nload average (1 minute) over the rounds: {min(loads):.1f}–{max(loads):.1f}")


def log_in(browser, url: str, args) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/")
    page.fill("#id_username", args.username)
    page.fill("#id_password", args.password)
    page.click("[type=submit]")
    page.wait_for_url(f"{url}/")
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


def report(rows: list[dict], *, runs: int, pooled: dict[str, list[dict]] | None) -> None:
    """The medians, and the page's ratios to the bare page (and to `pooled`, the bare page's
    rounds on every server compared, when given)."""
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
        line = f"{when}: page / bare page = {ratio:.2f}× ({verdict} the aim of {aim}×)"
        if pooled:
            bare = statistics.median(r["ms"] for r in pooled[f"bare {when}"])
            line += f"; / the bare page on every server = {medians[f'page {when}'] / bare:.2f}×"
        print(line)


if __name__ == "__main__":
    main()
