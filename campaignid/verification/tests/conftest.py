from campaignid.cards.tests.fixtures import *  # noqa: F401,F403
