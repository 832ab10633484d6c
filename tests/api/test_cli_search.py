"""`grantledger search TEXT`: the same search as GET /search, over the read models."""

from __future__ import annotations

import pytest

from tests.api.test_cli import demo_url, run, url

__all__ = ["demo_url", "url"]  # the fixtures, shared with test_cli


class TestSearch:
    def test_an_sme_by_part_of_its_name(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """`kevtex` finds the one SME of that name, with where it matched."""
        assert run(demo_url, "search", "kevtex") == 0
        out = capsys.readouterr().out
        assert "(1 of 1)" in out
        assert "Kevtex Schutzgewebe GmbH" in out
        assert "legal_name" in out

    def test_an_identifier_in_canonical_form(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The demo registered DE284615937; "de 284-615 937" is the same identifier."""
        assert run(demo_url, "search", "de 284-615 937") == 0
        out = capsys.readouterr().out
        assert "(1 of 1)" in out
        assert "DE284615937" in out

    def test_hostile_text_finds_nothing_quietly(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(demo_url, "search", '"* NEAR( OR') == 0
        assert "(0 of 0)" in capsys.readouterr().out

    def test_an_empty_search_is_refused(self, demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(demo_url, "search", "   ") == 2
        assert "the search is empty" in capsys.readouterr().err
