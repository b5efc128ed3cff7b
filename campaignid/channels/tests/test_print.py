"""The print channel's provider: sheets per health post, sorted, both layouts, every QR decodable."""

from __future__ import annotations

import asyncio
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp

from campaignid.channels.base import CardView, OutgoingMessage, SendError, SendResult
from campaignid.channels.print import PrintChannel, PrintConfig
from campaignid.channels.print.conf import from_mapping
from campaignid.channels.print.layout import CARD_H, CARD_W, LAYOUTS, MM

TOKEN = "HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23"


def message(i: int, org_unit: str = "OU_A", household: str = "H1", last: str = "Diallo", token: str | None = None):
    card = CardView(code=f"DKR-VAC-{i:08d}", version=1, display_name=f"Aminata {last}", first_name="Aminata",
                    last_name=last, programme_name="Rougeole 2026", programme_uid="PRG", issued_at=date(2026, 12, 3),
                    expires_at=date(2027, 12, 3), token=TOKEN + f"{i:04d}" if token is None else token, png=b"",
                    verification_url="", holder_url="")
    return OutgoingMessage(delivery_id=i, recipient="", text="", language="fr", card=card,
                           variables={"org_unit": org_unit, "org_unit_name": f"CSI {org_unit}", "household": household,
                                      "org_unit_path": f"/SN/{org_unit}"})


def pages_of(path) -> list[list[str]]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [[b.text for b in zxingcpp.read_barcodes(p.render(scale=300 / 72).to_pil(),
                                                        formats=zxingcpp.BarcodeFormat.QRCode)] for p in pdf]
    finally:
        pdf.close()


@pytest.mark.parametrize(("layout", "cards", "card_pages"), [("a4", 1, 1), ("a4", 10, 1), ("a4", 23, 3),
                                                             ("cr80", 3, 3)])
def test_a_sheet_holds_a_cover_then_the_cards_and_every_qr_decodes(tmp_path, layout, cards, card_pages):
    channel = PrintChannel(PrintConfig(layout=layout, spool_dir=str(tmp_path)))
    outcomes = asyncio.run(channel.send_many(None, [message(i) for i in range(cards)]))
    assert all(isinstance(o, SendResult) for o in outcomes) and len({o.provider_message_id for o in outcomes}) == 1
    pages = pages_of(channel.sheet_path(outcomes[0].provider_message_id))
    assert len(pages) == 1 + card_pages and pages[0] == []  # the cover has no QR
    assert sorted(t for page in pages for t in page) == sorted(TOKEN + f"{i:04d}" for i in range(cards))


def test_one_sheet_per_health_post_sorted_by_household_then_name(tmp_path):
    channel = PrintChannel(PrintConfig(spool_dir=str(tmp_path)))
    msgs = [message(0, "OU_B"), message(1, "OU_A", "H2", "Ba"), message(2, "OU_A", "H1", "Sy"),
            message(3, "OU_A", "H1", "Fall")]
    outcomes = channel.print_many(msgs)
    assert outcomes[0].provider_message_id.endswith("-OU_B") and outcomes[1].provider_message_id.endswith("-OU_A")
    assert [o.details["position"] for o in outcomes] == [1, 3, 2, 1]  # Fall (H1), Sy (H1), Ba (H2)
    assert sorted(p.name.rsplit("-", 1)[1] for p in tmp_path.iterdir()) == ["OU_A.pdf", "OU_B.pdf"]


@pytest.mark.parametrize(("broken", "code", "retryable"), [
    ("no card", "no_card", False),
    ("spool unwritable", "spool_unwritable", True),
])
def test_failures_are_send_errors_with_the_retry_decision(tmp_path, broken, code, retryable):
    spool = tmp_path / "spool"
    if broken == "spool unwritable":
        spool.write_text("a file where the directory should be")
        msg = message(1)
    else:
        msg = OutgoingMessage(delivery_id=1, recipient="", text="", language="fr", card=None)
    channel = PrintChannel(PrintConfig(spool_dir=str(spool)))
    with pytest.raises(SendError) as err:
        asyncio.run(channel.send(None, msg))
    assert (err.value.code, err.value.retryable) == (code, retryable)


@pytest.mark.parametrize(("mapping", "expected"), [
    ({}, "a4"), ({"layout": "CR80"}, "cr80"), ({"layout": "letter"}, ValueError),
])
def test_configuration(mapping, expected):
    if expected is ValueError:
        with pytest.raises(ValueError, match="layout"):
            from_mapping(mapping)
    else:
        assert from_mapping(mapping).layout == expected


def test_the_a4_grid_is_centred_with_cut_marks_outside_the_cards():
    a4 = LAYOUTS["a4"]
    x0, y0 = a4.origin
    assert round(x0 / MM, 1) == 19.4 and round(y0 / MM, 1) == 13.5
    assert a4.slot(0) == (x0, y0 + 4 * CARD_H) and a4.slot(9) == (x0 + CARD_W, y0)
    for x1, y1, x2, y2 in a4.marks():
        inside = x0 < min(x1, x2) and max(x1, x2) < x0 + 2 * CARD_W and y0 < min(y1, y2) < y0 + 5 * CARD_H
        assert not inside
    assert len(a4.marks()) == 2 * (3 + 6) and LAYOUTS["cr80"].marks() == []


def test_sheet_ids_cannot_name_another_file(tmp_path):
    channel = PrintChannel(PrintConfig(spool_dir=str(tmp_path)))
    with pytest.raises(ValueError):
        channel.sheet_path("../../etc/passwd")
