"""The verifier's pages: no login, camera allowed on them only, the service worker covers /v and /verify/."""

import json

import pytest

from campaignid.ops.headers import policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/verify/", "/v"])
def test_the_verifier_opens_without_login_with_the_camera_allowed_and_no_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "camera=(self)" in response["Permissions-Policy"]
    csp = response["Content-Security-Policy"]
    assert csp == policy() and "script-src 'self';" in csp and "unsafe" not in csp
    html = response.content.decode()
    assert "<script>" not in html and "style=" not in html
    assert "/static/verification/vendor/jsQR.js" in html and 'rel="manifest"' in html


@pytest.mark.django_db
def test_other_pages_keep_the_camera_off(client):
    assert "camera=()" in client.get("/c/").get("Permissions-Policy", "camera=()")


@pytest.mark.django_db
def test_the_service_worker_precaches_the_app_and_may_serve_the_short_address(client):
    response = client.get("/verify/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/v"
    body = response.content.decode()
    assert "/static/verification/verifier-core.js" in body and '"/v"' in body


@pytest.mark.django_db
def test_the_manifest_makes_it_installable(client):
    manifest = json.loads(client.get("/verify/manifest.webmanifest").content)
    assert manifest["start_url"] == "/verify/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
