"""The README's screenshots and the web pages' benchmark name pages that exist: no browser here.

The pictures are taken by ``scripts/screenshots`` (bench.screenshots) and committed; these
tests check that what is committed, what the README shows and what the script takes agree,
and that the pages the script and the benchmark (bench.web) visit are the web app's own.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from api.web import ROUTERS, owns
from bench import screenshots, web
from bench.webseed import PEOPLE

REPO = Path(__file__).resolve().parents[3]
README = (REPO / "README.md").read_text()
#: Every picture the README shows from the screenshots' folder: (alt text, path).
IMAGES = re.findall(r"!\[([^\]]*)\]\((docs/screenshots/[^)\s]+)\)", README)
MAX_BYTES = 200 * 1024


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its IHDR chunk)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def route_of(path: str) -> str:
    """A page's path as its route is declared (no query; the claim placeholder named as there)."""
    return path.split("?", 1)[0].replace("{claim}", "{claim_id}")


ROUTES = {getattr(route, "path", "") for router in ROUTERS for route in router.routes}


class TestScreenshots:
    def test_every_page_built_here_has_its_picture_committed_at_a_laptops_size(self) -> None:
        """Each shot is a 1280x800 PNG under 200 KiB."""
        for shot in screenshots.SHOTS:
            file = screenshots.FOLDER / shot.file
            assert file.is_file(), f"{file} is missing: run scripts/screenshots"
            assert png_size(file) == (screenshots.WIDTH, screenshots.HEIGHT) == (1280, 800), file
            assert file.stat().st_size < MAX_BYTES, f"{file} is {file.stat().st_size} bytes"

    def test_the_readme_shows_every_committed_picture_with_the_scripts_alt_text(self) -> None:
        """The README's lines are the ones ``--markdown`` prints for the pictures committed."""
        committed = [s for s in screenshots.SHOTS if (screenshots.FOLDER / s.file).exists()]
        assert committed
        assert screenshots.markdown(committed) in README
        shown = {path for _, path in IMAGES}
        assert {f"{screenshots.LINK}/{s.file}" for s in committed} <= shown

    def test_every_picture_the_readme_shows_exists_and_is_described(self) -> None:
        """No broken image in the README, none without an alternative text, none left over."""
        assert IMAGES, "the README shows no screenshot"
        names = {f"{screenshots.LINK}/{s.file}" for s in screenshots.SHOTS}
        for alt, path in IMAGES:
            assert (REPO / path).is_file(), f"the README shows {path}, which does not exist"
            assert path in names, f"{path} is not one of the script's shots"
            assert len(alt.split()) >= 5, f"{path} has no real alternative text: {alt!r}"
        on_disk = {f"{screenshots.LINK}/{p.name}" for p in screenshots.FOLDER.glob("*.png")}
        assert on_disk <= {path for _, path in IMAGES}, "a committed picture the README does not show"

    def test_the_shots_are_the_web_apps_pages_for_its_people(self) -> None:
        """Unique names; each page is a route of the web app for a role the script signs in."""
        names = [shot.name for shot in screenshots.SHOTS]
        assert len(names) == len(set(names))
        for shot in screenshots.SHOTS:
            assert shot.role in PEOPLE, shot
            assert owns(route_of(shot.path)), shot
            assert route_of(shot.path) in ROUTES, f"{shot.path} is no route of the web app"


class TestBenchmarkPages:
    @pytest.mark.parametrize("page", web.PAGES, ids=lambda page: page.name)
    def test_each_page_is_beside_the_json_apis_answer_for_the_same_person(self, page: web.Page) -> None:
        """A route of the web app for a role that signs in, beside a JSON API path; names are
        unique (the phases are found by name)."""
        assert page.role in PEOPLE
        assert owns(route_of(page.path))
        assert route_of(page.path) in ROUTES, f"{page.path} is no route of the web app"
        assert page.api.startswith("/api/v1/")
        assert [p.name for p in web.PAGES].count(page.name) == 1

    def test_the_large_history_measures_every_roles_home_page(self) -> None:
        homes = {page.role for page in web.LARGE_PAGES if page.path == "/"}
        assert homes == set(PEOPLE)
