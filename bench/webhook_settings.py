from campaignid.settings import *  # noqa: F403

ROOT_URLCONF = "webhook_site"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
