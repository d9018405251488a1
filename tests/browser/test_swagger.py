"""The API's documentation page (/api/docs/, Swagger UI from drf-spectacular-sidecar) in a browser:
its files load from the app itself, it lists every tag of the schema, and a person can sign in and
call the API through it ("Try it out", "Authorize")."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.browser

DOCS = "/api/docs/"
SIDECAR = "/static/drf_spectacular_sidecar/swagger-ui-dist/"


def schema_tags() -> set[str]:
    """Every tag of the schema the app generates (what `manage.py spectacular` writes)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    tags = {tag["name"] for tag in schema.get("tags", [])}
    for operations in schema["paths"].values():
        for operation in operations.values():
            tags.update(operation.get("tags", []))
    return tags


def open_docs(browser, wait, live_server) -> None:
    browser.get(live_server.url + DOCS)
    wait.until(seen.presence_of_element_located((By.CSS_SELECTOR, "#swagger-ui .opblock-tag")))


def operation(browser, method: str, path: str):
    """The operation's block (collapsed or open) on the page."""
    return browser.find_element(By.CSS_SELECTOR, f'.opblock-{method}:has(> .opblock-summary [data-path="{path}"])')


def paste(browser, text: str) -> None:
    """Put ``text`` into the focused field in one input event, as pasting does (typing it key by
    key makes Swagger UI render the whole page again for every character: seconds)."""
    browser.execute_cdp_cmd("Input.insertText", {"text": text})


def try_it_out(browser, wait, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
    """Open the operation, "Try it out", fill in the JSON body, "Execute": the status and the body
    of the response that the page shows."""
    block = operation(browser, method, path)
    if "is-open" not in block.get_attribute("class"):
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: block.find_element(By.CSS_SELECTOR, "button.try-out__btn")).click()
    if body is not None:
        editor = wait.until(lambda _: block.find_element(By.CSS_SELECTOR, "textarea.body-param__text"))
        editor.send_keys(Keys.CONTROL, "a")
        paste(browser, json.dumps(body))
    block.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        lambda _: block.find_element(By.CSS_SELECTOR, ".live-responses-table .response .response-col_status")
    )
    shown = block.find_element(By.CSS_SELECTOR, ".live-responses-table .response-col_description pre")
    return int(status.text.split()[0]), shown.text


def test_the_docs_load_from_the_app_and_list_every_tag_of_the_schema(browser, wait, live_server):
    tags = schema_tags()
    assert {"auth", "users", "orders"} <= tags  # the schema does have tags to look for

    open_docs(browser, wait, live_server)

    wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")) >= len(tags))
    listed = {tag.get_attribute("data-tag") for tag in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")}
    assert listed == tags
    assert browser.title == "Bazaar API"
    # Swagger UI's script, style and icon came from drf-spectacular-sidecar, served by the app.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => [new URL(r.name).pathname, r.responseStatus])"
    )
    sidecar = {path.removeprefix(SIDECAR): status for path, status in loaded if path.startswith(SIDECAR)}
    assert {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"} <= set(sidecar)
    assert set(sidecar.values()) == {200}
    assert browser.execute_script("return typeof window.SwaggerUIBundle") == "function"


def test_a_user_signs_in_and_reads_their_profile_through_try_it_out(browser, wait, live_server):
    user = UserFactory(email="reader@example.com")
    open_docs(browser, wait, live_server)

    status, shown = try_it_out(
        browser, wait, "post", "/api/v1/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert status == 200, shown
    access = json.loads(shown)["access"]

    browser.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
    dialog = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux .modal-ux")))
    dialog.find_element(By.CSS_SELECTOR, ".auth-container input").click()
    paste(browser, access)
    dialog.find_element(By.CSS_SELECTOR, "button.modal-btn.auth.authorize").click()
    wait.until(lambda _: dialog.find_element(By.CSS_SELECTOR, "button.modal-btn.auth.btn-done")).click()
    wait.until(seen.invisibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux")))

    status, shown = try_it_out(browser, wait, "get", "/api/v1/users/me/")
    assert status == 200, shown
    assert json.loads(shown)["email"] == "reader@example.com"
