"""``GET /docs``: the API reference, rendered on the server from the OpenAPI document.

No script and no asset from elsewhere: the page is plain HTML with the dashboard's
stylesheet, under the dashboard's Content-Security-Policy. ``/openapi.json`` holds the
same document for tools.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from detector.dashboard.web import render

router = APIRouter(include_in_schema=False)
_REF = "#/components/schemas/"
_METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/docs", response_class=HTMLResponse)
async def reference(request: Request) -> HTMLResponse:
    doc = request.app.openapi()
    return render("api_reference.html", **page(doc))


def page(doc: dict[str, Any]) -> dict[str, Any]:
    """What the template shows: each operation with its body and answers, each schema."""
    operations = []
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            operations.append(
                {
                    "anchor": f"{method}-{path}".replace("/", "-").strip("-"),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": prose(op.get("description", "")),
                    "auth": bool(op.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p.get("in", ""),
                            "type": type_of(p.get("schema", {})),
                            "description": p.get("description")
                            or p.get("schema", {}).get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _content(body) if body else None,
                    "body_description": prose((body or {}).get("description", "")),
                    "responses": [
                        {
                            "code": code,
                            "description": prose(r.get("description", "")),
                            **_content(r),
                        }
                        for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    schemas = [
        {
            "name": name,
            "description": prose(schema.get("description", "")),
            "fields": [
                {
                    "name": field,
                    "type": type_of(sub),
                    "required": field in schema.get("required", []),
                    "description": prose(sub.get("description", "")),
                }
                for field, sub in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items())
    ]
    return {
        "title": doc.get("info", {}).get("title", "API"),
        "version": doc.get("info", {}).get("version", ""),
        "intro": prose(doc.get("info", {}).get("description", "")),
        "operations": operations,
        "schemas": schemas,
    }


def prose(text: str) -> Markup:
    """Escaped text whose `backquoted` spans become ``<code>``: the descriptions are
    written in Markdown's inline-code style, and nothing else of Markdown is used."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704


def _answer(code: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": code,
        "description": prose(response.get("description", "")),
        **_content(response),
    }


def _content(part: dict[str, Any]) -> dict[str, Any]:
    media = part.get("content", {})
    return {"media": [{"type": m, "schema": type_of(v.get("schema"))} for m, v in media.items()]}


def type_of(schema: Any) -> str:
    """A short reading of a JSON schema: ``string``, ``array of Record``, ``A | B``."""
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(_REF)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(type_of(s) for s in schema[key]))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"object of {type_of(schema['additionalProperties'])}"
    bounds = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤")):
        if key in schema:
            bounds.append(f"{sign} {schema[key]}")
    for key, word in (("minLength", "min length"), ("maxLength", "max length")):
        if key in schema:
            bounds.append(f"{word} {schema[key]}")
    return f"{kind} ({', '.join(bounds)})" if bounds else str(kind)
