"""The accounts routes in the OpenAPI document: every operation is there, with its declared errors."""

from __future__ import annotations

ACCOUNTS_OPERATIONS = {
    ("post", "/accounts/register"),
    ("post", "/accounts/activate"),
    ("get", "/accounts/activate"),
    ("post", "/accounts/activation/resend"),
    ("post", "/accounts/login"),
    ("post", "/accounts/token"),
    ("post", "/accounts/refresh"),
    ("post", "/accounts/logout"),
    ("post", "/accounts/password/change"),
    ("post", "/accounts/password/forgot"),
    ("post", "/accounts/password/reset"),
    ("get", "/accounts/me"),
    ("get", "/accounts/me/profile"),
    ("patch", "/accounts/me/profile"),
    ("get", "/accounts/users"),
    ("get", "/accounts/users/{user_id}"),
    ("patch", "/accounts/users/{user_id}/group"),
    ("post", "/accounts/users/{user_id}/activate"),
    ("post", "/accounts/users/{user_id}/deactivate"),
    ("put", "/accounts/users/{user_id}/password"),
    ("put", "/accounts/me/avatar"),
    ("delete", "/accounts/me/avatar"),
}


async def test_every_accounts_operation_is_documented(app) -> None:
    document = app.openapi()
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith("/accounts")
        for method in operations
    }
    assert documented >= ACCOUNTS_OPERATIONS
    # No trailing-slash twins in the document, and no password in any response model.
    assert not any(path.endswith("/") for path in document["paths"] if path.startswith("/accounts"))
    schemas = document["components"]["schemas"]
    for name in ("UserOut", "ProfileOut", "TokenOut"):
        assert "password" not in schemas[name]["properties"]


async def test_routes_document_their_errors_from_the_error_classes(app) -> None:
    """`responses=` come from `error_responses(...)`: each names its codes and sentences, with the error body."""
    paths = app.openapi()["paths"]

    def described(path: str, method: str, status: str) -> str:
        answer = paths[path][method]["responses"][status]
        return str(answer["description"])

    assert described("/accounts/register", "post", "409") == (
        "`email_taken`: An account with this email already exists."
    )
    assert described("/accounts/register", "post", "422").startswith("`weak_password`: The password must be")
    assert "`last_admin`: This is the last active ADMIN" in described(
        "/accounts/users/{user_id}/group", "patch", "409"
    )
    assert (
        described("/accounts/users/{user_id}", "get", "404") == "`user_not_found`: The user does not exist."
    )
    assert "`permission_denied`: Your role does not allow this." in described("/accounts/users", "get", "403")
    assert "`invalid_token`: This refresh token was already used" in described(
        "/accounts/refresh", "post", "401"
    )
    assert "`payload_too_large`: The avatar must be at most 5 MB." in described(
        "/accounts/me/avatar", "put", "413"
    )
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for path, method, status in (
        ("/accounts/users/{user_id}", "get", "404"),
        ("/accounts/login", "post", "429"),
        ("/accounts/me/avatar", "put", "415"),
    ):
        assert paths[path][method]["responses"][status]["content"]["application/json"]["schema"] == error_body
    # A 422 is either shape: FastAPI's validation list or a rule's error body.
    assert paths["/accounts/register"]["post"]["responses"]["422"]["content"]["application/json"][
        "schema"
    ] == {"anyOf": [{"$ref": "#/components/schemas/HTTPValidationError"}, error_body]}
