"""Periodic operations tasks, run by the queue consumers."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from campaignid.cards.card_image import prune_cache

from .retention import purge


@db_periodic_task(crontab(minute="17", hour="2"))
@lock_task("ops-retention")
def purge_old_personal_data():
    purge()


@db_periodic_task(crontab(minute="*/15"))
@lock_task("ops-card-cache")
def bound_card_image_cache():
    prune_cache()
