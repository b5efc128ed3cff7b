from datetime import timedelta

import base45
import cbor2
import pytest
from django.db import IntegrityError
from django.utils import timezone

from campaignid.cards import codes, keys, service, token
from campaignid.cards.card_image import card_face, local_date
from campaignid.cards.models import Card
from campaignid.lib.errors import Conflict, NotFound, Unavailable

from .fixtures import make_beneficiary, make_program


def payload_of(signed: str) -> bytes:
    return cbor2.loads(base45.b45decode(signed[5:])).value[2]


@pytest.mark.django_db
def test_issuing_creates_a_signed_card_with_a_programme_code(beneficiary, program, settings):
    card, created = service.issue_card(beneficiary, actor="tester")
    assert created
    assert codes.prefix_of(card.code) == "DKR-VAC"
    assert card.status == Card.VALID
    assert card.expires_at - card.issued_at == timedelta(days=program.card_validity_days)
    claims, kid = token.verify(card.token, keys.key_ring())
    assert (claims.card_code, claims.programme_uid, claims.name) == (card.code, "IpHINAT79UW", "Fàtoumata Ndèye Diallo")
    assert (claims.issued_at, claims.expires_at) == (int(card.issued_at.timestamp()), int(card.expires_at.timestamp()))
    assert claims.issuer == settings.CAMPAIGNID_PUBLIC_URL
    assert card.key_id == keys.b64url(kid)
    assert [(e.kind, e.actor) for e in card.events.all()] == [("issued", "tester")]


@pytest.mark.django_db
def test_issuing_again_returns_the_current_card(card, beneficiary):
    again, created = service.issue_card(beneficiary)
    assert not created
    assert again.pk == card.pk
    assert card.events.count() == 1


@pytest.mark.django_db
def test_the_phone_number_is_never_in_the_token(card, beneficiary):
    raw = payload_of(card.token)
    assert b"771234567" not in raw and beneficiary.phone.encode() not in raw


@pytest.mark.django_db
def test_issuer_can_be_configured(monkeypatch, beneficiary):
    monkeypatch.setenv("CARD_ISSUER", "SN-MSAS")
    card, _ = service.issue_card(beneficiary)
    assert cbor2.loads(payload_of(card.token))[1] == "SN-MSAS"


@pytest.mark.django_db
def test_reissue_revokes_the_previous_card_and_records_both_events(card, beneficiary):
    new = service.reissue_card(beneficiary, actor="agent", reason="card lost")
    card.refresh_from_db()
    assert card.status == Card.REVOKED and card.revoke_reason == "card lost" and card.version == 2
    assert new.code != card.code and new.status == Card.VALID
    assert [e.kind for e in card.events.all()] == ["issued", "revoked"]
    assert [(e.kind, e.details) for e in new.events.all()] == [("reissued", {"reason": "card lost",
                                                                             "replaces": card.code})]
    assert service.current_card(beneficiary).pk == new.pk


@pytest.mark.django_db
def test_revoke_is_idempotent_and_leaves_no_valid_card(card, beneficiary):
    service.revoke_card(card, actor="agent", reason="fraud")
    again = service.revoke_card(card, actor="agent", reason="twice")
    assert again.status == Card.REVOKED and again.revoke_reason == "fraud" and again.version == 2
    assert [e.kind for e in again.events.all()] == ["issued", "revoked"]
    assert service.current_card(beneficiary) is None
    assert service.card_status(again) == "revoked"
    new, created = service.issue_card(beneficiary)
    assert created and new.code != card.code


@pytest.mark.django_db
def test_an_expired_current_card_is_replaced_on_issue(card, beneficiary):
    Card.objects.filter(pk=card.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    card.refresh_from_db()
    assert service.card_status(card) == "expired"
    new, created = service.issue_card(beneficiary)
    card.refresh_from_db()
    assert created and new.pk != card.pk
    assert card.status == Card.REVOKED and card.revoke_reason == "expired"


@pytest.mark.django_db
def test_no_card_for_a_cancelled_enrollment(beneficiary):
    beneficiary.active = False
    beneficiary.save()
    with pytest.raises(Conflict) as caught:
        service.issue_card(beneficiary)
    assert caught.value.code == "beneficiary_inactive"


@pytest.mark.django_db
def test_the_database_allows_one_valid_card_per_beneficiary(card, beneficiary):
    with pytest.raises(IntegrityError):
        Card.objects.create(program=card.program, beneficiary=beneficiary, code="DKR-VAC-00000000",
                            holder_key="x", display_name="x")


@pytest.mark.django_db
def test_code_collisions_are_retried(monkeypatch, card, program):
    other = make_beneficiary(program, "ENR-0002")
    taken = card.code.split("-")[-1]
    bodies = iter([taken, taken, "ZZZZ9999"])
    monkeypatch.setattr(codes, "random_body", lambda length=8: next(bodies))
    new, _ = service.issue_card(other)
    assert new.code == "DKR-VAC-ZZZZ9999"


@pytest.mark.django_db
def test_a_code_space_that_keeps_colliding_gives_a_clear_error(monkeypatch, card, program):
    other = make_beneficiary(program, "ENR-0002")
    monkeypatch.setattr(codes, "random_body", lambda length=8: card.code.split("-")[-1])
    with pytest.raises(Unavailable) as caught:
        service.issue_card(other)
    assert caught.value.code == "card_code_unavailable"


@pytest.mark.django_db
def test_display_name_is_normalised_and_bounded(program):
    b = make_beneficiary(program, "ENR-0009", first_name="  Se\u0301verine ", last_name="Traoré " * 16)
    name = service.display_name(b)
    assert name.startswith("Séverine Traoré")
    assert len(name) <= service.NAME_MAX and name.endswith("…")


@pytest.mark.django_db
def test_links_for_the_holder_and_for_everyone(card, settings):
    base = settings.CAMPAIGNID_PUBLIC_URL
    assert service.verification_url(card) == f"{base}/c/{card.code}"
    assert service.holder_url(card) == f"{base}/c/{card.code}?k={card.holder_key}"
    assert service.holder_png_url(card) == f"{base}/c/{card.code}/card.png?k={card.holder_key}"
    assert len(card.holder_key) >= 20


@pytest.mark.django_db
def test_png_is_cached_and_regenerated_when_the_card_changes(card, settings, django_capture_on_commit_callbacks):
    first = service.card_png_path(card)
    assert first.parent.parent == settings.DATA_DIR / "cards" and first.name.startswith(f"{card.code}-v1-")
    assert service.card_png_path(card) == first
    with django_capture_on_commit_callbacks(execute=True):
        revoked = service.revoke_card(card)
    assert not first.exists()  # dropped as soon as the revocation is committed
    second = service.card_png_path(revoked)
    assert second != first and second.name.startswith(f"{card.code}-v2-")
    assert not first.exists()
    assert service.card_png(revoked)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db
def test_png_is_regenerated_when_the_programme_look_changes(card, program):
    first = service.card_png_path(card)
    program.primary_colour = "#AA0000"
    program.save()
    card.refresh_from_db()
    assert service.card_png_path(card) != first


@pytest.mark.django_db
def test_dates_on_the_card_are_in_the_programme_time_zone(card, program):
    program.timezone = "Pacific/Kiritimati"  # UTC+14
    assert local_date(card.issued_at, program) == (card.issued_at + timedelta(hours=14)).date()
    assert card_face(card).issued_on == local_date(card.issued_at, card.program)
    program.timezone = "Not/AZone"
    assert local_date(card.issued_at, program) == card.issued_at.date()


@pytest.mark.django_db
def test_find_card_is_scoped_to_the_organisation(card, scope, other_org):
    from campaignid.programs.access import Scope

    assert service.find_card(scope, card.code.lower()).pk == card.pk
    for code in (card.code, "nonsense", "DKR-VAC-00000000"):
        with pytest.raises(NotFound) as caught:
            service.find_card(Scope(other_org), code)
        assert caught.value.code == "card_not_found"


@pytest.mark.django_db
def test_each_programme_uses_its_own_prefix(org, beneficiary):
    nutrition = make_program(org, name="Nutrition", dhis2_program_uid="WSGAb5XwJ3Y", code_prefix="THS-NUT")
    other = make_beneficiary(nutrition, "ENR-0001")
    card, _ = service.issue_card(other)
    assert card.code.startswith("THS-NUT-")


@pytest.mark.django_db
def test_bulk_issuing_creates_missing_cards_and_keeps_current_ones(program):
    people = [make_beneficiary(program, f"ENR-B{i:03d}") for i in range(30)]
    existing, _ = service.issue_card(people[0])
    expired, _ = service.issue_card(people[1])
    Card.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    people[2].active = False
    people[2].save()
    cards = service.issue_cards_bulk(people, actor="batch")
    assert cards[people[0].pk].pk == existing.pk
    assert cards[people[1].pk].pk != expired.pk and Card.objects.get(pk=expired.pk).status == Card.REVOKED
    assert people[2].pk not in cards
    assert len(cards) == 29 and len({c.code for c in cards.values()}) == 29
    for card in cards.values():
        claims, _ = token.verify(card.token, keys.key_ring())
        assert claims.card_code == card.code and codes.prefix_of(card.code) == "DKR-VAC"
    new = [c for pk, c in cards.items() if pk not in (people[0].pk, people[1].pk)]
    assert all([(e.kind, e.actor) for e in c.events.all()] == [("issued", "batch")] for c in new)
    assert service.issue_cards_bulk(people) == cards  # idempotent
