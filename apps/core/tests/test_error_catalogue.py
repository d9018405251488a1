"""One error catalogue (STYLE.md rule 12): every ApplicationError lives in its domain's
``apps/<app>/exceptions.py`` with a code of its own, and only apps/core/exceptions.py shapes an
error body.

Modules are found by walking the ``apps`` package, so a new domain's ``exceptions.py`` (or an
error class defined anywhere else) is checked without touching this file.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import apps
from apps.core.exceptions import ApplicationError

NOT_APPLICATION_CODE = {"tests", "migrations"}
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
REPOSITORY = Path(apps.__file__).resolve().parent.parent
BODY_SHAPER = REPOSITORY / "apps" / "core" / "exceptions.py"


def _module_names(package: ModuleType) -> Iterator[str]:
    """Every module under ``package``, depth first; tests and migrations packages are skipped."""
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        if info.name.rpartition(".")[2] in NOT_APPLICATION_CODE:
            continue
        yield info.name
        if info.ispkg:
            yield from _module_names(importlib.import_module(info.name))


def _application_modules() -> set[str]:
    names = set(_module_names(apps))
    for name in sorted(names):
        importlib.import_module(name)
    return names


def _subclasses(cls: type) -> Iterator[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _catalogue() -> list[type[ApplicationError]]:
    """ApplicationError and every subclass defined in application code (not in tests)."""
    modules = _application_modules()
    classes = {ApplicationError, *(cls for cls in _subclasses(ApplicationError) if cls.__module__ in modules)}
    return sorted(classes, key=_name)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_domain_catalogue(module: str) -> bool:
    """``apps.<app>.exceptions``: one catalogue per domain, not one per sub-package."""
    parts = module.split(".")
    return len(parts) == 3 and parts[0] == "apps" and parts[2] == "exceptions"


def test_the_walk_finds_every_domains_exceptions_module():
    modules = _application_modules()

    found = {name for name in modules if _is_domain_catalogue(name)}

    assert {
        "apps.core.exceptions",
        "apps.accounts.exceptions",
        "apps.catalog.exceptions",
        "apps.cart.exceptions",
        "apps.orders.exceptions",
    } <= found


def test_error_codes_are_unique_across_the_project():
    by_code = defaultdict(list)
    for cls in _catalogue():
        by_code[cls.default_code].append(_name(cls))

    shared = {code: names for code, names in by_code.items() if len(names) > 1}

    assert not shared, (
        "one class per error code (a subclass inherits its parent's code unless it sets its own "
        f"default_code): {shared}"
    )


def test_every_error_class_lives_in_its_domains_exceptions_module():
    misplaced = [_name(cls) for cls in _catalogue() if not _is_domain_catalogue(cls.__module__)]

    assert not misplaced, f"move these to their domain's apps/<app>/exceptions.py: {misplaced}"


def test_every_error_has_a_message_a_machine_code_and_an_error_status():
    incomplete = [
        _name(cls)
        for cls in _catalogue()
        if not str(cls.default_detail).strip()
        or not isinstance(cls.default_code, str)
        or not CODE_PATTERN.fullmatch(cls.default_code)
        or not 400 <= cls.status_code < 600
    ]

    assert not incomplete, f"each error needs a default_detail, a snake_case default_code and a 4xx/5xx: {incomplete}"


def _source_files() -> Iterator[Path]:
    for top in ("apps", "config"):
        for path in sorted((REPOSITORY / top).rglob("*.py")):
            if NOT_APPLICATION_CODE.isdisjoint(path.relative_to(REPOSITORY).parts):
                yield path


def _builds_an_error_body(node: ast.AST) -> bool:
    """A ``{"detail": ..., "code": ...}`` literal or ``dict(detail=..., code=...)``. A dict whose
    "detail" is itself a dict describes the body (an OpenAPI schema) and is not one."""
    if isinstance(node, ast.Dict):
        keys = {
            key.value: value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
        return "code" in keys and "detail" in keys and not isinstance(keys["detail"], ast.Dict)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {"detail", "code"} <= {keyword.arg for keyword in node.keywords}
    return False


def test_no_module_but_core_exceptions_builds_an_error_body():
    hand_built = [
        f"{path.relative_to(REPOSITORY)}:{node.lineno}"
        for path in _source_files()
        if path != BODY_SHAPER
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if _builds_an_error_body(node)
    ]

    assert not hand_built, f"raise an error class, or use apps.core.exceptions.error_response: {hand_built}"


def test_the_body_check_recognises_a_hand_built_body():
    source = 'JsonResponse({"detail": "Gone.", "code": "gone"}, status=410)\ndict(detail="Gone.", code="gone")'
    schema = '{"properties": {"detail": {"type": "string"}, "code": {"type": "string"}}}'

    assert sum(_builds_an_error_body(node) for node in ast.walk(ast.parse(source))) == 2
    assert not any(_builds_an_error_body(node) for node in ast.walk(ast.parse(schema)))
