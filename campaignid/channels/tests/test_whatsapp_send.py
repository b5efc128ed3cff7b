"""WhatsApp channel: configuration and successful sends, against the Graph sandbox over TCP."""

from __future__ import annotations

import json

import pytest

from campaignid.channels import registry
from campaignid.channels.base import SendError
from campaignid.channels.whatsapp import (
    CHANNEL,
    ENV,
    MEDIA_CACHE,
    REQUIRED,
    SECRET_FIELDS,
    SETTINGS_FIELDS,
    sandbox_defaults,
)
from campaignid.channels.whatsapp.payloads import fit
from campaignid.channels.whatsapp.testing import MOBILE, outgoing, sample_card, sandbox_channel, send
from campaignid.sandbox.testing import control

PHONE_NUMBER_ID = "100000000000001"


@pytest.fixture(autouse=True)
def fresh_media_cache():
    """The sandbox forgets its media on reset; so does the process-level cache between tests."""
    MEDIA_CACHE.clear()
    yield
    MEDIA_CACHE.clear()


def graph_requests(sandbox, edge: str | None = None) -> list[dict]:
    items = control(sandbox, "/requests?provider=graph", method="GET")
    return [r for r in items if edge is None or r["path"].endswith("/" + edge)]


def sent_body(sandbox) -> dict:
    return json.loads(graph_requests(sandbox, "messages")[-1]["body"])


# --- configuration ---------------------------------------------------------------------------------

def test_module_declares_the_contract_and_every_setting_has_an_environment_variable():
    assert registry.channel_class("whatsapp") is CHANNEL and CHANNEL.kind == "whatsapp"
    assert set(ENV) == set(SECRET_FIELDS) | set(SETTINGS_FIELDS)
    assert set(REQUIRED) <= set(ENV)
    assert all(name.startswith("WHATSAPP_") for name in ENV.values())
    assert ENV["access_token"] == "WHATSAPP_API_TOKEN" and ENV["graph_url"] == "WHATSAPP_GRAPH_URL"


def test_defaults_match_the_real_graph_api():
    config = CHANNEL.config_from({"access_token": "EAAG-secret-token", "phone_number_id": "1"})
    channel = CHANNEL(config)
    assert config.graph_url == "https://graph.facebook.com" and config.graph_version == "v25.0"
    assert config.template_name == "campaignid_card" and config.template_named_parameters is True
    assert dict(config.template_language) == {"fr": "fr", "en": "en"}
    assert channel.rate_per_second == 80 and channel.messaging_limit is None  # Meta's limit, read at run time
    assert channel.account_key == "whatsapp:1"
    assert "EAAG" not in repr(config)  # the token never shows in a repr


@pytest.mark.parametrize("mapping, missing", [
    ({"phone_number_id": "1"}, "access_token"),
    ({"access_token": "t"}, "phone_number_id"),
    ({"access_token": "", "phone_number_id": "1"}, "access_token"),
])
def test_missing_required_setting_is_named(mapping, missing):
    with pytest.raises(KeyError, match=missing):
        CHANNEL.config_from(mapping)


@pytest.mark.parametrize("setting, value, problem", [
    ("graph_version", "latest", "graph_version"),
    ("graph_url", "graph.facebook.com", "graph_url"),
    ("rate_per_second", "0", "rate_per_second"),
    ("messaging_limit", "-5", "messaging_limit"),
    ("messaging_limit", "2K", "messaging_limit"),
    ("template_named_parameters", "maybe", "template_named_parameters"),
    ("template_parameters", "first name", "template_parameters"),
    ("template_language", "{}", "template_language"),
])
def test_malformed_setting_is_refused_with_its_name(setting, value, problem):
    with pytest.raises(ValueError, match=problem):
        CHANNEL.config_from({"access_token": "t", "phone_number_id": "1", setting: value})


@pytest.mark.parametrize("setting, value, attribute, expected", [
    ("graph_version", "24.0", "graph_version", "v24.0"),
    ("graph_url", "https://graph.example.org/", "graph_url", "https://graph.example.org"),
    ("template_language", "fr:fr,en:en_US", "template_language", (("fr", "fr"), ("en", "en_US"))),
    ("template_language", {"fr": "fr_SN"}, "template_language", (("fr", "fr_SN"),)),
    ("template_language", '{"en": "en_GB"}', "template_language", (("en", "en_GB"),)),
    ("template_named_parameters", "false", "template_named_parameters", False),
    ("template_parameters", "first_name, card_code", "template_parameters", ("first_name", "card_code")),
    ("rate_per_second", "20", "rate_per_second", 20.0),
    ("messaging_limit", "10000", "messaging_limit", 10_000),
    ("messaging_limit", "500", "messaging_limit", 500),
    ("messaging_limit", "unlimited", "messaging_limit", None),
])
def test_settings_from_environment_strings_or_organisation_rows(setting, value, attribute, expected):
    config = CHANNEL.config_from({"access_token": "t", "phone_number_id": "1", setting: value})
    assert getattr(config, attribute) == expected


@pytest.mark.parametrize("language, expected", [("fr", "fr"), ("en", "en_US"), ("wo", "fr")])
def test_template_language_follows_the_mapping_and_falls_back_to_its_first_entry(language, expected):
    config = CHANNEL.config_from({"access_token": "t", "phone_number_id": "1",
                                  "template_language": "fr:fr,en:en_US"})
    assert config.language_code(language) == expected


def test_sandbox_defaults_use_the_sandbox_credentials():
    defaults = sandbox_defaults("http://127.0.0.1:8900/")
    assert defaults["graph_url"] == "http://127.0.0.1:8900/graph"
    assert defaults["access_token"] == "sandbox-whatsapp-token"
    assert (defaults["phone_number_id"], defaults["waba_id"]) == (PHONE_NUMBER_ID, "200000000000001")
    assert defaults["app_secret"] == "sandbox-app-secret"


@pytest.mark.parametrize("text, limit, expected", [
    ("short", 10, ("short", False)),
    ("one two three four five", 16, ("one two three…", True)),
    ("x" * 30, 10, ("x" * 9 + "…", True)),
])
def test_fit_cuts_at_a_word_boundary_with_an_ellipsis(text, limit, expected):
    assert fit(text, limit) == expected


# --- sends -----------------------------------------------------------------------------------------

def test_template_send_uploads_the_card_and_uses_it_as_image_header_with_named_parameters(sandbox):
    card = sample_card("AAA-VAC-0101")
    result = send(sandbox_channel(sandbox.url), outgoing(41, card=card))

    assert result.provider_message_id.startswith("wamid.")
    assert result.details["type"] == "template" and result.details["http_calls"] == 2
    upload, message = graph_requests(sandbox)
    assert upload["path"] == f"/graph/v25.0/{PHONE_NUMBER_ID}/media"
    assert upload["headers"]["authorization"] == "Bearer sandbox-whatsapp-token"
    assert upload["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    body = json.loads(message["body"])
    assert body["to"] == MOBILE.lstrip("+") and body["biz_opaque_callback_data"] == "41"
    header, params = body["template"]["components"]
    assert body["template"]["name"] == "campaignid_card" and body["template"]["language"] == {"code": "fr"}
    assert header["parameters"][0]["image"] == {"id": result.details["media_id"]}
    assert [(p["parameter_name"], p["text"]) for p in params["parameters"]] == [
        ("first_name", "Aminata"), ("programme_name", "Vaccination"), ("card_code", "AAA-VAC-0101"),
        ("verification_url", "https://cards.example.org/c/AAA-VAC-0101")]
    accepted = control(sandbox, f"/graph/messages/{result.provider_message_id}", method="GET")
    assert accepted["template"] == "campaignid_card" and "AAA-VAC-0101" in accepted["text"]


def test_positional_template_sends_parameters_in_configured_order(sandbox):
    channel = sandbox_channel(sandbox.url, template_name="campaignid_card_positional",
                              template_named_parameters="false",
                              template_parameters="first_name,programme_name,card_code")
    result = send(channel, outgoing(42, language="en"))

    params = sent_body(sandbox)["template"]["components"][1]["parameters"]
    assert params == [{"type": "text", "text": "Aminata"}, {"type": "text", "text": "Vaccination"},
                      {"type": "text", "text": "AAA-VAC-0001"}]
    accepted = control(sandbox, f"/graph/messages/{result.provider_message_id}", method="GET")
    assert accepted["language"] == "en" and accepted["text"].startswith("Hello Aminata")


def test_free_form_send_is_an_image_with_the_text_as_caption(sandbox):
    control(sandbox, "/graph/inbound", {"from": MOBILE})  # opens the 24 h window
    message = outgoing(43, use_template=False, text="Bonjour Aminata, voici votre carte.")
    result = send(sandbox_channel(sandbox.url), message)

    body = sent_body(sandbox)
    assert body["type"] == "image" and body["biz_opaque_callback_data"] == "43"
    assert body["image"] == {"id": result.details["media_id"], "caption": "Bonjour Aminata, voici votre carte."}
    accepted = control(sandbox, f"/graph/messages/{result.provider_message_id}", method="GET")
    assert accepted["failure"] is None  # inside the window: no asynchronous 131047


def test_free_form_text_longer_than_a_caption_is_cut_to_1024_characters(sandbox):
    control(sandbox, "/graph/inbound", {"from": MOBILE})
    result = send(sandbox_channel(sandbox.url), outgoing(44, use_template=False, text="mot " * 400))

    caption = sent_body(sandbox)["image"]["caption"]
    assert len(caption) <= 1024 and caption.endswith("…")
    assert result.details["text_truncated"] is True and result.details["http_calls"] == 2


def test_free_form_without_a_card_is_a_text_message(sandbox):
    control(sandbox, "/graph/inbound", {"from": MOBILE})
    message = outgoing(45, use_template=False, text="Votre carte est prête.")
    message = type(message)(**{**message.__dict__, "card": None})
    result = send(sandbox_channel(sandbox.url), message)

    assert sent_body(sandbox)["text"] == {"body": "Votre carte est prête.", "preview_url": False}
    assert result.details == {"type": "text", "http_calls": 1}


@pytest.mark.parametrize("second_card, uploads, reused", [
    (sample_card("AAA-VAC-0201", 1), 1, True),  # same card version: the media ID is reused
    (sample_card("AAA-VAC-0201", 2), 2, False),  # a new version of the card is a new image
    (sample_card("AAA-VAC-0202", 1), 2, False),  # another card
])
def test_resend_of_the_same_card_version_reuses_its_media_id(sandbox, second_card, uploads, reused):
    channel = sandbox_channel(sandbox.url)
    first = send(channel, outgoing(46, card=sample_card("AAA-VAC-0201", 1)))
    second = send(channel, outgoing(47, card=second_card))

    assert len(graph_requests(sandbox, "media")) == uploads
    assert len(graph_requests(sandbox, "messages")) == 2
    assert second.details["media_reused"] is reused
    assert second.details["http_calls"] == (1 if reused else 2)
    assert (second.details["media_id"] == first.details["media_id"]) is reused


def test_cached_media_id_unknown_to_meta_is_uploaded_again_once(sandbox):
    channel = sandbox_channel(sandbox.url)
    first = send(channel, outgoing(48))
    # The media disappears on Meta's side (deleted, or expired): the next send must not fail for it.
    control(sandbox, "/reset")
    second = send(channel, outgoing(49))

    assert [r["path"].rsplit("/", 1)[1] for r in graph_requests(sandbox)] == ["messages", "media", "messages"]
    assert second.details["http_calls"] == 3 and second.details["media_reused"] is False
    assert second.details["media_id"] != first.details["media_id"]


def test_configured_graph_version_is_used_in_every_path(sandbox):
    send(sandbox_channel(sandbox.url, graph_version="v24.0"), outgoing(50))
    assert {r["path"].split("/")[2] for r in graph_requests(sandbox)} == {"v24.0"}
    assert control(sandbox, "/graph/state", method="GET")["versions"] == {"v24.0": 2}


def test_template_needing_a_variable_the_message_lacks_fails_before_calling_meta(sandbox):
    message = outgoing(51, variables={"first_name": "Aminata"})
    with pytest.raises(SendError) as caught:
        send(sandbox_channel(sandbox.url), message)
    assert (caught.value.category, caught.value.retryable) == ("template", False)
    assert "programme_name" in caught.value.message
    assert graph_requests(sandbox, "messages") == []
