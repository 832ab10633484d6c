"""``python -m bench.screenshots`` (``scripts/screenshots``): the README's pictures of the web app.

Loads the demo into a temporary store, serves it on a loopback port (bench.server), signs in
as the coordinator, an officer (NIDV) and an auditor through the sign-in form in Debian's
Chromium driven by Playwright (never Playwright's own browser downloads), and saves the top of
each main page at a laptop's size (1280x800, device scale 1) as PNG into docs/screenshots/.
Pass ``--markdown`` to print the README's section for the pictures taken.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.server import REPO, Server
from bench.web import a_claim
from bench.webseed import Seeded, seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("GRANTLEDGER_CHROMIUM", "/usr/bin/chromium"))
FOLDER = REPO / "docs" / "screenshots"
#: The README links the pictures from here (relative to the repository's root).
LINK = "docs/screenshots"
WIDTH, HEIGHT = 1280, 800
#: The server stops by itself after this many seconds, whatever happens to this script.
LIFETIME = 600


@dataclass(frozen=True)
class Shot:
    """One picture: a page as ``role`` sees it (``{claim}``: a claim of the officer's partner
    awaiting a decision), saved as ``name``.png, with the README's alternative text."""

    name: str
    role: str
    path: str
    #: The README's caption above the picture, and the picture's alternative text.
    caption: str
    alt: str

    @property
    def file(self) -> str:
        return f"{self.name}.png"


SHOTS = (
    Shot(
        "coordinator-home",
        "coordinator",
        "/",
        "The coordinator's home page",
        "The coordinator's home page: the grant's total, EU cap and EU contribution so far, "
        "and each partner's used and remaining budget",
    ),
    Shot(
        "budget",
        "coordinator",
        "/budget",
        "The budget (`/budget`)",
        "The budget page: every partner and category line with allocated, pending, committed, "
        "paid and remaining amounts, and date pickers for the books as recorded or as effective",
    ),
    Shot(
        "claims",
        "coordinator",
        "/claims",
        "The claims (`/claims`)",
        "The claims list with filters by state, partner and mission, and each claim's SME, amounts in EUR and state",
    ),
    Shot(
        "claim",
        "officer",
        "/claims/{claim}",
        "A claim, as an officer of its partner sees it (`/claims/ID`)",
        "A claim awaiting the officer's decision: each line in its receipt's currency with the rate used, "
        "the EUR amounts and what was accepted, and the approve and reject forms",
    ),
    Shot(
        "officer-home",
        "officer",
        "/",
        "An officer's home page",
        "An officer's home page: their partner's budget lines, the claims awaiting their decision and recent payments",
    ),
    Shot(
        "auditor-home",
        "auditor",
        "/",
        "The auditor's home page",
        "The auditor's home page: the chain's head seal, the read models' state, recent events "
        "and the exports to download",
    ),
    Shot(
        "verify",
        "auditor",
        "/verify",
        "Verifying the chain (`/verify`)",
        "The verify page: the hash chain recomputed from every stored event, its result and head seal",
    ),
    Shot(
        "charts",
        "coordinator",
        "/charts",
        "Burn charts (`/charts`)",
        "Burn charts of the whole grant: paid, own costs and committed stacked against the allocation over "
        "business time, the action period and today marked",
    ),
    Shot(
        "missions",
        "coordinator",
        "/missions",
        "Missions (`/missions`)",
        "The missions: country, dates, reimbursement rate, cap per SME, responsible partner, SMEs selected "
        "and support approved",
    ),
    Shot(
        "rates",
        "coordinator",
        "/rates",
        "Exchange rates (`/rates`)",
        "The monthly exchange rates recorded per currency with their source, and the forms to record, "
        "correct and import rates",
    ),
    Shot(
        "audit",
        "auditor",
        "/audit",
        "The audit trail (`/audit`)",
        "The audit trail: every event with its position, recorded and business dates, who acted, the record "
        "and the reason, with filters",
    ),
)


def signed_in(browser: Browser, server: Server, name: str, password: str) -> Page:
    """A new browser context (its own cookies, a laptop's screen) signed in through the form."""
    context = browser.new_context(
        base_url=server.base_url, viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1
    )
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.base_url + "/")
    return page


def take(server: Server, seeded: Seeded, folder: Path) -> list[Shot]:
    """Every shot that exists here, saved into ``folder``; the shots taken."""
    from playwright.sync_api import sync_playwright

    claim = a_claim(server, seeded)
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            pages = {role: signed_in(browser, server, *seeded.passwords[role]) for role in seeded.passwords}
            for shot in SHOTS:
                page = pages[shot.role]
                answer = page.goto(shot.path.format(claim=claim))
                status = None if answer is None else answer.status
                if status != 200:
                    raise RuntimeError(f"{shot.path} as {shot.role} answered {status}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(folder / shot.file), full_page=False)
                size = (folder / shot.file).stat().st_size
                print(f"{folder / shot.file}: {size // 1024} KiB")
                taken.append(shot)
        finally:
            browser.close()
    return taken


def markdown(shots: list[Shot]) -> str:
    """The README's pictures: each under its caption, with its alternative text."""
    return "\n\n".join(f"{shot.caption}:\n\n![{shot.alt}]({LINK}/{shot.file})" for shot in shots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=FOLDER, help=f"where to save the PNGs (default {FOLDER})")
    parser.add_argument("--markdown", action="store_true", help="print the README's lines for the pictures")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        parser.error(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set GRANTLEDGER_CHROMIUM)")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grantledger-screenshots-"))
    try:
        seeded = seed(f"sqlite:///{work / 'ledger.db'}", demo=True)
        with Server(seeded.database_url, work / "server.log", lifetime=LIFETIME) as server:
            taken = take(server, seeded, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.markdown:
        print(markdown(taken))
    return 0


if __name__ == "__main__":
    sys.exit(main())
