"""Beneficiaries for the offline-verification tests."""

from __future__ import annotations

from campaignid.cards.tests.fixtures import make_beneficiary


def people(program, count: int) -> list:
    return [make_beneficiary(program, f"ENR-OFF-{n:04d}") for n in range(count)]
