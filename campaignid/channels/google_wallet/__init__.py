"""Google Wallet channel: generic passes through the Google Wallet API (``reference/providers.md`` §3).

Modules, in reading order:
- ``conf``: setting names, environment variables, sandbox defaults, the frozen ``WalletConfig``;
- ``payload``: pure builders (IDs, generic class and object, OAuth assertion and save-JWT claims);
- ``errors``: Google answers → ``SendError`` (category, retry, scope), decided once;
- ``auth``: service-account keys and OAuth tokens, cached per process, safe across threads and loops;
- ``client``: Wallet REST calls (class once, object upsert, patch, ``POST /jwt``);
- ``channel``: ``GoogleWalletChannel.send`` / ``send_many`` (``issue_many``) / ``refresh`` / ``link_for``;
- ``probe``: the Settings > Integrations "Test" (sign in, list the issuer's classes).

Google sends no delivery callbacks for passes: a wallet delivery ends at ``sent`` (link issued). The
documented endpoints (``/dhis2/google-wallet/…``) are distribution's (``distribution/wallet.py``): this
package is provider code only and knows no delivery, card or programme table.
"""

from .auth import clear as _clear_auth
from .channel import JWT_CHUNK, GoogleWalletChannel, expire_pass, update_pass
from .client import KNOWN_CLASSES
from .conf import (
    ENDPOINT_FIELDS,  # noqa: F401 - read through the registry (programs/authority.py)
    ENV,
    REQUIRED,
    SECRET_FIELDS,
    SETTINGS_FIELDS,
    WalletConfig,
    sandbox_defaults,
)

CHANNEL = GoogleWalletChannel


def clear_caches() -> None:
    """Forget cached tokens, sandbox keys and known classes (tests; key rotation)."""
    _clear_auth()
    KNOWN_CLASSES.clear()


__all__ = [
    "CHANNEL", "ENV", "JWT_CHUNK", "REQUIRED", "SECRET_FIELDS", "SETTINGS_FIELDS", "GoogleWalletChannel",
    "WalletConfig", "clear_caches", "expire_pass", "sandbox_defaults", "update_pass",
]
