"""/docs and /redoc work offline: every asset they load is served by the service itself, from the
npm packages package-lock.json pins; without those installed, the pages say so (503)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import assets
from api.docs import DOCS, REDOC
from tests.api.test_headers import directives

ROOT = Path(__file__).resolve().parents[2]
ATTRIBUTE_URL = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']""")
#: The source expressions a policy may use: none of them names a host.
LOCAL_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}


def referenced(page: str) -> list[str]:
    return ATTRIBUTE_URL.findall(page)


@pytest.fixture
def installed() -> None:
    lost = assets.missing(*assets.VENDOR)
    assert not lost, f"the front-end assets are not installed ({lost}): run scripts/setup-venv"


@pytest.mark.usefixtures("installed")
class TestServedByTheServiceItself:
    @pytest.mark.parametrize("page", [DOCS, REDOC])
    def test_the_pages_reference_only_same_origin_urls(self, client: TestClient, page: str) -> None:
        """Every src, href and spec-url is a path on this service; no text names another origin."""
        answer = client.get(page)
        assert answer.status_code == 200
        urls = referenced(answer.text)
        assert any(url.startswith(assets.VENDOR_PREFIX + "/") for url in urls), urls
        for url in urls:
            assert re.match(r"/[^/]", url), url  # a path on this service, not //host/...
        assert not re.search(r"https?:", answer.text), answer.text

    @pytest.mark.parametrize("page", [DOCS, REDOC])
    def test_every_asset_a_page_loads_answers_with_its_media_type(self, client: TestClient, page: str) -> None:
        """Each script and stylesheet the page names answers 200 with a JavaScript or CSS type and
        the bytes of the installed package's file."""
        for url in referenced(client.get(page).text):
            if url == "/openapi.json":
                continue
            answer = client.get(url)
            assert answer.status_code == 200, url
            kind = answer.headers["content-type"]
            assert kind.startswith("text/css" if url.endswith(".css") else "text/javascript"), (url, kind)
            assert answer.headers["x-content-type-options"] == "nosniff"
            if url.startswith(assets.VENDOR_PREFIX):
                name = url.removeprefix(assets.VENDOR_PREFIX + "/")
                assert answer.content == assets.file_of(name).read_bytes(), url

    def test_the_bundles_are_the_libraries_the_pages_call(self, client: TestClient) -> None:
        """The Swagger UI bundle defines SwaggerUIBundle (which /docs/swagger-init.js calls) and
        the ReDoc bundle defines the <redoc> element's code."""
        assert "SwaggerUIBundle" in client.get(assets.url("swagger-ui/swagger-ui-bundle.js")).text
        assert "redoc" in client.get(assets.url("redoc/redoc.standalone.js")).text.lower()

    def test_the_installed_packages_are_the_locked_versions(self) -> None:
        """node_modules holds exactly what package-lock.json pins (scripts/setup-venv re-runs
        npm ci when the lock changes), and package.json pins exact versions."""
        manifest = json.loads((ROOT / "package.json").read_text())
        lock = json.loads((ROOT / "package-lock.json").read_text())
        for package in {vendor.package for vendor in assets.VENDOR.values()}:
            pinned = manifest["dependencies"][package]
            assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), (package, pinned)
            assert lock["packages"][f"node_modules/{package}"]["version"] == pinned
            installed = json.loads((assets.NODE_MODULES / package / "package.json").read_text())
            assert installed["version"] == pinned, package


class TestOnlyTheNamedFiles:
    @pytest.mark.parametrize(
        "path", ["swagger-ui/package.json", "redoc/../../pyproject.toml", "nothing.js", "swagger-ui/index.html"]
    )
    def test_a_file_not_named_is_not_served(self, client: TestClient, path: str) -> None:
        """Only the files in api/assets.VENDOR are served, never the rest of node_modules."""
        assert client.get(f"{assets.VENDOR_PREFIX}/{path}").status_code == 404

    def test_the_third_party_files_stay_out_of_the_repository(self) -> None:
        """node_modules/ is ignored by git; the lock file, not the files, is committed."""
        ignored = (ROOT / ".gitignore").read_text().splitlines()
        assert "node_modules/" in ignored
        assert (ROOT / "package-lock.json").is_file()


class TestWithoutTheAssets:
    @pytest.fixture(autouse=True)
    def not_installed(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setattr(assets, "NODE_MODULES", tmp_path / "node_modules")

    @pytest.mark.parametrize("page", [DOCS, REDOC])
    def test_the_page_says_how_to_install_them(self, client: TestClient, page: str) -> None:
        """503 with a page naming the missing files and scripts/setup-venv, never a broken page
        that loads scripts which are not there."""
        answer = client.get(page)
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/html")
        assert "scripts/setup-venv" in answer.text
        assert "node_modules" in answer.text
        assert "<script" not in answer.text
        assert directives(answer.headers["content-security-policy"])["script-src"] == ["'self'"]

    def test_an_asset_says_so_too(self, client: TestClient) -> None:
        answer = client.get(assets.url("redoc/redoc.standalone.js"))
        assert answer.status_code == 503
        assert "scripts/setup-venv" in answer.text


class TestPoliciesNameNoOtherOrigin:
    @pytest.mark.parametrize("page", [DOCS, REDOC])
    def test_no_source_names_a_host(self, client: TestClient, page: str) -> None:
        """Every directive of the pages' Content-Security-Policy allows only the service itself
        (or data:/blob:, and inline styles for ReDoc): no CDN, no scheme-wide source."""
        policy = client.get(page).headers["content-security-policy"]
        for directive, sources in directives(policy).items():
            assert set(sources) <= LOCAL_SOURCES, (directive, sources)
        assert directives(policy)["script-src"] == ["'self'"]

    def test_the_docs_policies_are_the_strict_ones(self, client: TestClient) -> None:
        """/docs has the policy of every page; /redoc only adds inline styles and a blob: worker."""
        docs = directives(client.get(DOCS).headers["content-security-policy"])
        redoc = directives(client.get(REDOC).headers["content-security-policy"])
        assert docs["style-src"] == ["'self'"]
        assert redoc["style-src"] == ["'self'", "'unsafe-inline'"]
        assert redoc["worker-src"] == ["blob:"]
        assert {k: v for k, v in redoc.items() if k not in ("style-src", "worker-src")} == {
            k: v for k, v in docs.items() if k != "style-src"
        }


MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


class TestTheDocumentationStaysInTheRepository:
    @pytest.mark.parametrize("document", ["README.md", "docs/domain.md"])
    def test_every_link_names_a_file_of_the_repository(self, document: str) -> None:
        """A fresh clone has everything the README and the domain page link to: no link leaves
        the repository (no ../, no other site), and each names a file that exists."""
        source = ROOT / document
        links = MARKDOWN_LINK.findall(source.read_text())
        for link in links:
            target = (source.parent / link.split("#")[0]).resolve()
            assert not re.match(r"[a-z]+:", link), link
            assert target.is_relative_to(ROOT), link
            assert target.exists(), link

    def test_the_readme_points_to_the_domain_rules(self) -> None:
        assert "](docs/domain.md)" in (ROOT / "README.md").read_text()
