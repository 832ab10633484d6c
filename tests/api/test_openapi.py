"""The OpenAPI document at /docs describes every operation a client can call."""

from __future__ import annotations

from typing import Any

from api.main import create_app
from api.settings import Settings


def openapi() -> dict[str, Any]:
    return create_app(Settings(database_url="memory://")).openapi()


class TestOpenApi:
    def test_every_write_documents_its_body_with_an_example(self) -> None:
        """Each POST names its request schema, and that schema carries an example a user can
        paste into /docs; the uploads of documents describe their multipart form the same way."""
        document = openapi()
        schemas = document["components"]["schemas"]
        posts = [(path, op["post"]) for path, op in document["paths"].items() if "post" in op]
        assert len(posts) == 27
        for path, operation in posts:
            content = operation["requestBody"]["content"]
            if "multipart/form-data" in content:
                form = content["multipart/form-data"]["schema"]
                assert form.get("examples"), f"POST {path}: the form has no example"
                assert form["properties"], f"POST {path}: the form names no field"
                assert {"413", "415"} <= set(operation["responses"]), f"POST {path}: the upload's refusals"
                continue
            ref = content["application/json"]["schema"]["$ref"]
            schema = schemas[ref.rsplit("/", 1)[-1]]
            assert schema.get("examples"), f"POST {path}: request schema {ref} has no example"

    def test_every_operation_has_a_summary_and_documents_its_problems(self) -> None:
        """Every operation is summarised and lists the problem answers it may give, as
        application/problem+json."""
        for path, operations in openapi()["paths"].items():
            for method, operation in operations.items():
                assert operation.get("summary"), f"{method.upper()} {path} has no summary"
                for status in ("401", "403", "404", "409", "422"):
                    content = operation["responses"][status]["content"]
                    assert "application/problem+json" in content, f"{method.upper()} {path} {status}"

    def test_money_is_documented_as_a_decimal_string(self) -> None:
        """Request money is a string with a decimal pattern, never a JSON number."""
        amount = openapi()["components"]["schemas"]["MoneyIn"]["properties"]["amount"]
        assert amount["type"] == "string"
        assert "pattern" in amount
