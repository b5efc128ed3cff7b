"""Key rotation: after ``rotatekeys`` the old encryption key can be dropped and every secret still reads."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from campaignid.channels.models import ChannelConfig

pytestmark = pytest.mark.django_db


def test_secrets_readable_with_the_new_key_alone_after_rotation(make_org, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CAMPAIGNID_ENCRYPTION_KEYS = [old]
    org, _ = make_org()
    config = ChannelConfig.objects.create(organisation=org, channel="sms", secrets={"client_secret": "orange-s3cret"})
    settings.CAMPAIGNID_ENCRYPTION_KEYS = [new, old]
    call_command("rotatekeys", stdout=open("/dev/null", "w"))
    settings.CAMPAIGNID_ENCRYPTION_KEYS = [new]
    assert ChannelConfig.objects.get(pk=config.pk).secrets == {"client_secret": "orange-s3cret"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM channels_channelconfig WHERE id = %s", [config.pk])
        assert "orange-s3cret" not in cursor.fetchone()[0]


def test_rotation_without_the_old_key_stops_with_a_clear_error(make_org, settings):
    from django.core.management.base import CommandError

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CAMPAIGNID_ENCRYPTION_KEYS = [old]
    org, _ = make_org()
    ChannelConfig.objects.create(organisation=org, channel="sms", secrets={"client_secret": "x"})
    settings.CAMPAIGNID_ENCRYPTION_KEYS = [new]
    with pytest.raises(CommandError, match="rotated-out"):
        call_command("rotatekeys")
