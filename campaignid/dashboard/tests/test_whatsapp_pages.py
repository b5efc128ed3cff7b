"""Dashboard pages for WhatsApp as it is in 2026: templates with status, quality and category (sync, accept),
rate cards (who may edit, line-by-line errors, the example), costs on the batch and distribution pages, and
the pre-send summary with Meta's messaging limit and a template problem."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from campaignid.channels.models import MessageTemplate
from campaignid.distribution.models import Batch, Delivery, Rate, RateCard
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

WABA = "200000000000001"


def _template(**kw) -> MessageTemplate:
    values = {"channel": "whatsapp", "owner": WABA, "name": "campaignid_card", "language": "fr",
              "status": "approved", "category": "utility", "quality": "high", "accepted_category": "utility",
              "accepted_quality": "high", **kw}
    return MessageTemplate.objects.create(**values)


# --- templates ----------------------------------------------------------------------------------------

def test_sync_now_reads_metas_templates_and_shows_status_quality_and_category(sandbox_settings, admin):
    control(sandbox_settings, "/graph/templates/campaignid_card_text/fr", {"status": "PAUSED"})
    page = admin.post("/settings/whatsapp-templates/sync/", follow=True).content.decode()
    assert "9 modèles lus chez Meta" in page
    assert MessageTemplate.objects.filter(owner=WABA).count() == 9
    assert "campaignid_card_text" in page and "en pause" in page and "utilitaire" in page and "élevée" in page


def test_a_recategorised_template_is_flagged_and_an_administrator_accepts_it(db, sandbox_settings, admin):
    row = _template(category="marketing")
    page = admin.get("/settings/whatsapp-templates/").content.decode()
    assert "Meta a changé la catégorie" in page and "Accepter le changement" in page
    admin.post(f"/settings/whatsapp-templates/{row.pk}/accept/")
    row.refresh_from_db()
    assert row.accepted_category == "marketing"
    assert "Accepter le changement" not in admin.get("/settings/whatsapp-templates/").content.decode()


def test_only_organisation_administrators_accept_a_template_change(db, sandbox_settings, programme, login):
    row = _template(quality="low")
    manager = login(programme[0], Membership.PROGRAMME_ADMIN)
    assert "Accepter le changement" not in manager.get("/settings/whatsapp-templates/").content.decode()
    assert manager.post(f"/settings/whatsapp-templates/{row.pk}/accept/").status_code == 403
    row.refresh_from_db()
    assert row.accepted_quality == "high"


def test_a_paused_template_cannot_be_accepted_away(db, sandbox_settings, admin):
    row = _template(status="paused")
    page = admin.post(f"/settings/whatsapp-templates/{row.pk}/accept/", follow=True).content.decode()
    assert "Seul Meta peut rendre un modèle" in page


def test_programme_users_do_not_see_templates_or_rate_cards(db, officer):
    assert officer.get("/settings/whatsapp-templates/").status_code == 403
    assert officer.get("/settings/rate-cards/").status_code == 403


# --- rate cards ---------------------------------------------------------------------------------------

def test_a_rate_card_with_mistakes_lists_every_line_and_saves_nothing(admin):
    form = {"name": "Contrat 2026", "currency": "xof", "valid_from": "2026-01-01",
            "rates": "SN utility 7,5\nSEN utility 1\nSN promo 1\nSN utility 8\n* marketing abc"}
    resp = admin.post("/settings/rate-cards/", form)
    html = resp.content.decode()
    assert resp.status_code == 422 and not RateCard.objects.exists()
    for line in ("Ligne 2 : SEN", "Ligne 3 : la catégorie", "Ligne 4 : SN utility a deux prix", "Ligne 5 : abc"):
        assert line in html
    assert "SEN utility 1" in html  # what was typed is kept


def test_a_valid_rate_card_is_saved_and_edited_with_its_rates_replaced(admin, programme):
    admin.post("/settings/rate-cards/", {"name": "Contrat", "currency": "XOF", "valid_from": "2026-01-01",
                                         "source": "contrat BSP", "rates": "SN;utility;7,5\n*,marketing,30"})
    card = RateCard.objects.get(organisation=programme[0])
    assert card.currency == "XOF" and card.valid_from == date(2026, 1, 1)
    assert {(r.country, r.category, r.price) for r in card.rates.all()} == {
        ("SN", "utility", Decimal("7.5")), ("*", "marketing", Decimal("30"))}
    admin.post(f"/settings/rate-cards/{card.pk}/", {"name": "Contrat", "currency": "XOF", "valid_from": "2026-01-01",
                                                    "rates": "SN utility 8"})
    assert [(r.country, r.price) for r in card.rates.all()] == [("SN", Decimal("8"))]


def test_the_example_card_is_offered_as_illustrative_figures(admin):
    html = admin.get("/settings/rate-cards/?example=1").content.decode()
    assert "chiffres d&#x27;illustration" in html and "* utility 0.0100" in html


def test_programme_administrators_read_rate_cards_but_cannot_change_them(programme, login):
    manager = login(programme[0], Membership.PROGRAMME_ADMIN)
    assert manager.get("/settings/rate-cards/").status_code == 200
    resp = manager.post("/settings/rate-cards/", {"name": "x", "currency": "XOF", "valid_from": "2026-01-01",
                                                  "rates": "SN utility 1"})
    assert resp.status_code == 403 and not RateCard.objects.exists()


def test_another_organisations_card_is_not_found(admin, make_org):
    other, _ = make_org("org-b", prefix="BBB-VAC")
    card = RateCard.objects.create(organisation=other, name="b", currency="XOF", valid_from=date(2026, 1, 1))
    assert admin.get(f"/settings/rate-cards/{card.pk}/").status_code == 404
    assert admin.post(f"/settings/rate-cards/{card.pk}/delete/").status_code == 404


# --- costs on the batch and distribution pages --------------------------------------------------------

def test_batch_and_programme_pages_show_what_whatsapp_cost(admin, programme, make_beneficiary):
    org, program = programme
    card = RateCard.objects.create(organisation=org, name="c", currency="XOF", valid_from=date(2026, 1, 1))
    Rate.objects.create(card=card, country="SN", category="utility", price=Decimal("7.5"))
    batch = Batch.objects.create(organisation=org, program=program, channels=["whatsapp"], state="completed")
    sent = datetime(2026, 3, 1, tzinfo=UTC)
    for i, billable in enumerate([True, True, False]):
        b = make_beneficiary(program)
        Delivery.objects.create(organisation=org, program=program, beneficiary=b, batch=batch, channel="whatsapp",
                                status="read", recipient=b.phone, sent_at=sent, billing_category="utility",
                                billable=billable, billing_country="SN")
    page = admin.get(f"/distribution/batches/{batch.pk}/").content.decode()
    assert "Coût WhatsApp de cette distribution" in page and "15 XOF" in page and "gratuit" in page
    home = admin.get("/distribution/?costs=1").content.decode()
    assert "Coût WhatsApp du programme" in home and "15 XOF" in home


# --- the pre-send summary -----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_review_shows_metas_messaging_limit_and_blocks_a_template_meta_paused(sandbox_settings, admin, programme,
                                                                               make_beneficiary):
    from campaignid.distribution import limits

    org, program = programme
    ids = [make_beneficiary(program, phone="+221771230001").enrollment_id]
    control(sandbox_settings, "/graph/config", {"messaging_limit": "TIER_2K"})
    limits.forget()
    form = {"ids": ids, "channel": "whatsapp"}
    page = admin.post("/distribution/review/", form).content.decode()
    assert "2000 destinataires par 24 h" in page and "telle que Meta l" in page
    assert 'id="sum-template"' not in page
    _template(status="paused")
    page = admin.post("/distribution/review/", form).content.decode()
    assert 'id="sum-template"' in page and "en pause chez Meta" in page and "disabled>" in page
