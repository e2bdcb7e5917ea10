"""End to end: `riskkit app`'s Voila server on a free loopback port, driven by Debian's chromium.

On the committee's screen (a store with a sample month of applications and an open meeting)
votes for the first agenda item, records the decision through the confirmation and reads it
back from the store; moves the score cut-off slider and checks that the chart and the approval
figures shown in the page change; edits the applicant's amount and checks the limit panel
follows; raises the portfolio's down-migration multiplier and checks its chart and summary
change. Saves screenshots to $RISKKIT_SCREENSHOT_DIR if set (to look at them), else to the
test's tmp dir.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.widgets.helpers import committee_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; "
        ".ci/run installs it)",
    ),
]


def _cell(page, panel: str, label: str) -> str:
    """Text of the value next to ``label`` in the first value table under ``panel``."""
    return page.locator(f"{panel} th:text-is('{label}') + td").first.inner_text().strip()


@pytest.fixture(scope="module")
def committee_db(tmp_path_factory):
    return committee_store(tmp_path_factory.mktemp("committee") / "riskkit.db")


def _record_committee_decision(page, db_url, shots) -> None:
    """Vote on the first agenda item, record, confirm, and find the decision in the store."""
    from riskkit.lending.process import CreditProcess
    from riskkit.store import Store

    agenda = page.locator(".rk-cm-agenda select")
    agenda.wait_for(timeout=45_000)
    app_id = agenda.input_value().split(" · ")[0]  # the option shows "id · product · amount"
    page.screenshot(path=str(shots / "credit_committee_screen.png"), full_page=True)
    for member in ("A01", "C01", "C02", "C03", "C04", "C05", "R01"):
        select = page.locator(f".rk-cm-vote-{member} select")
        if select.is_disabled():  # recused: handled this application
            continue
        vote = "decline" if member == "C04" else "approve"
        select.select_option(label=vote)
        # every vote gives its reason: a vote for what the rules decline must
        why = "cash flow too thin" if vote == "decline" else "for the amount the rules allow"
        page.locator(f".rk-cm-vote-{member} input").nth(1).fill(why)
        page.locator(f".rk-cm-vote-{member} input").nth(1).press("Enter")
    page.locator("button.rk-cm-record").click()
    page.locator(".rk-cm-preview").wait_for(timeout=20_000)
    preview = page.locator(".rk-cm-preview").inner_text()
    assert f"Record for {app_id}" in preview
    assert CreditProcess(Store(db_url)).state(app_id).stage == "committee"  # not yet
    page.locator("button.rk-cm-confirm").click()
    page.locator(".rk-cm-outcome").wait_for(timeout=20_000)
    shown = page.locator(".rk-cm-outcome").inner_text().strip()
    step = CreditProcess(Store(db_url)).steps(app_id).iloc[-1]
    assert step["step"] == "committee" and step["decision"] == shown
    # 4+ of 5-6 for (the chair's veto never here), under the rules: repriced below the floor,
    # the counter-offer of a request declined as requested, or declined
    assert shown in ("approved", "approved_with_conditions", "counter_offer_approved", "declined")
    page.locator(".rk-cm-decision").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "credit_committee_decision.png"))


def test_committee_app_in_chromium(tmp_path, committee_db):
    pw = pytest.importorskip("playwright.sync_api", reason="playwright (pip extra 'app')")
    from riskkit.widgets.app import serve, wait_until_serving

    t0 = time.monotonic()
    log = (tmp_path / "voila.log").open("w")
    proc, url = serve(
        port=0,
        env={"RISKKIT_APP_DB_URL": committee_db},
        stdout=log,
        stderr=subprocess.STDOUT,
        tracebacks=True,
    )
    assert url.startswith("http://127.0.0.1:")
    shots = Path(os.environ.get("RISKKIT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        wait_until_serving(url, proc, timeout=30)
        with pw.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, timeout=45_000)
                chart = page.locator(".rk-cutoff-chart img[data-rk-figure]")
                chart.wait_for(timeout=45_000)
                page.locator(".rk-recommendation").wait_for(timeout=10_000)
                page.screenshot(path=str(shots / "credit_committee_applicant.png"))

                # --- the committee's screen: record a decision, read it back from the store
                _record_committee_decision(page, committee_db, shots)

                # --- cut-off what-if: move the slider (type into its readout)
                before_src = chart.get_attribute("src")
                before_rate = _cell(page, ".rk-cutoff-approval", "Approval rate")
                readout = page.locator(".rk-cutoff .widget-readout")
                old = int(readout.inner_text())
                new = old + 15
                readout.scroll_into_view_if_needed()
                readout.click()
                page.keyboard.press("Control+A")
                page.keyboard.type(str(new))
                page.keyboard.press("Enter")
                page.wait_for_function(
                    "b => document.querySelector('.rk-cutoff-chart img').src !== b",
                    arg=chart.evaluate("e => e.src"),
                    timeout=20_000,
                )
                assert chart.get_attribute("src") != before_src
                assert _cell(page, ".rk-cutoff-approval", "Cut-off") == str(new)
                after_rate = float(_cell(page, ".rk-cutoff-approval", "Approval rate")[:-1])
                assert after_rate < float(before_rate[:-1])  # a higher cut-off approves fewer
                page.locator(".rk-cutoff-chart").scroll_into_view_if_needed()
                page.screenshot(path=str(shots / "credit_committee_cutoff.png"))

                # --- applicant what-if: request the suggested limit, then 50,000 more
                limit = int(_cell(page, ".rk-applicant-limit", "Suggested limit").replace(",", ""))
                amount = page.locator(".rk-amount input")
                amount.scroll_into_view_if_needed()
                for value, exceeds in ((limit, "no"), (limit + 50_000, "yes")):
                    if value <= 0:
                        continue
                    amount.fill(str(value))
                    amount.press("Enter")
                    page.wait_for_function(
                        "v => [...document.querySelectorAll('.rk-applicant-limit th')]"
                        ".some(th => th.innerText.trim() === 'Requested'"
                        " && th.nextElementSibling.innerText.trim() === v)",
                        arg=f"{value:,}",
                        timeout=20_000,
                    )
                    assert _cell(page, ".rk-applicant-limit", "Requested") == f"{value:,}"
                    assert _cell(page, ".rk-applicant-limit", "Exceeds limit") == exceeds

                # --- portfolio what-if: a harsher down-migration multiplier
                pchart = page.locator(".rk-portfolio-chart img[data-rk-figure]")
                before_src = pchart.evaluate("e => e.src")
                mult = page.locator(".rk-multiplier .widget-readout")
                mult.scroll_into_view_if_needed()
                mult.click()
                page.keyboard.press("Control+A")
                page.keyboard.type("3.0")
                page.keyboard.press("Enter")
                page.wait_for_function(
                    "b => document.querySelector('.rk-portfolio-chart img').src !== b",
                    arg=before_src,
                    timeout=20_000,
                )
                assert "down-migration x3.0" in page.locator(".rk-portfolio-summary").inner_text()
                pchart.scroll_into_view_if_needed()
                page.screenshot(path=str(shots / "credit_committee_portfolio.png"))
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert time.monotonic() - t0 < 90, "the browser test must stay under a minute and a half"
