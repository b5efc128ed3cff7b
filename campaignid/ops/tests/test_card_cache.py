"""The card image cache stays under its bound; a pruned card is rendered again when asked for."""

from __future__ import annotations

import os
import time

import pytest

from campaignid.cards import card_image, service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _issue(program, person):
    return service.issue_card(person)[0]


def test_least_recently_used_cards_are_pruned_and_rendered_again_on_demand(make_org, make_beneficiary):
    org, program = make_org()
    cards = [_issue(program, make_beneficiary(program)) for _ in range(5)]
    paths = [card_image.card_png_path(c) for c in cards]
    size = paths[0].stat().st_size
    for age, path in enumerate(reversed(paths)):  # cards[0] is the oldest
        stamp = time.time() - 1000 + 100 * (len(paths) - age)
        os.utime(path, (stamp, stamp))
    assert card_image.card_png_path(cards[0]) == paths[0]  # a hit makes the oldest the newest
    files, total = card_image.cache_usage()
    assert files == 5

    removed, left = card_image.prune_cache(limit_bytes=int(total * 0.7))

    assert removed >= 2 and left <= int(total * 0.7 * 0.8) + size
    assert paths[0].exists() and not paths[1].exists()  # least recently used went first
    again = card_image.card_png_path(cards[1])
    assert again.exists() and again.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_under_the_bound_nothing_is_removed(make_org, make_beneficiary, settings):
    org, program = make_org()
    card_image.card_png_path(_issue(program, make_beneficiary(program)))
    settings.CARD_IMAGE_CACHE_MB = 1
    assert card_image.prune_cache()[0] == 0
