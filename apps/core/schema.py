"""OpenAPI post-processing: every operation documents the errors the API can answer with.

Errors come from shared layers (authentication, throttling, body limits, parsers), so listing
them per view would repeat the same lines everywhere; this hook adds what a view did not declare.
A view declares only its own errors (409, 402, ...), by description; the hook gives every error
response without a body schema the shared one.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}
VALIDATION_SCHEMA = {
    "type": "object",
    "description": "Field name to messages (or nested errors for nested fields).",
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Invalid input: field errors, or {detail, code}.",
    "401": "Authentication required or the token is invalid.",
    "403": "Not allowed.",
    "404": "Not found, or private to someone else.",
    "405": "Method not allowed.",
    "409": "Conflict with the current state.",
    "413": "Request body too large.",
    "414": "Request line (path and query) too long; answered by gunicorn.",
    "415": "Unsupported media type.",
    "429": "Throttled; see Retry-After.",
    "503": "The database is unavailable (code database_unavailable); retry after Retry-After seconds.",
}
BODY_METHODS = {"post", "put", "patch"}


def require_one_of_bodies(result, generator, request, public):
    """A request body that is one of several shapes, each with required fields (checkout: an address or
    an address id), cannot be left out: drf-spectacular marks a body required only from a plain
    serializer's required fields."""
    components = result.get("components", {}).get("schemas", {})
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            body = operation.get("requestBody") if method in BODY_METHODS else None
            if not body:
                continue
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                shapes = components.get(ref.rsplit("/", 1)[-1], {}).get("oneOf")
                if shapes and all(
                    components.get(s.get("$ref", "").rsplit("/", 1)[-1], s).get("required") for s in shapes
                ):
                    body["required"] = True
    return result


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components["ValidationError"] = VALIDATION_SCHEMA
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["400", "401", "403", "404", "405", "414", "429", "503"]
            if method in BODY_METHODS:
                codes += ["413", "415"]
            responses = operation.setdefault("responses", {})
            declared = [code for code, response in responses.items() if code >= "400" and "content" not in response]
            for code in codes + declared:
                if code in responses and code not in declared:
                    continue
                schema = (
                    {"anyOf": [error_ref, {"$ref": "#/components/schemas/ValidationError"}]}
                    if code == "400"
                    else error_ref
                )
                responses[code] = {
                    "description": responses.get(code, {}).get("description") or DESCRIPTIONS.get(code, "Error."),
                    "content": {"application/json": {"schema": schema}},
                }
    return result
