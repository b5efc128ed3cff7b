"""`manage.py check`: warn when a channel is enabled but half-configured (environment or database)."""

from __future__ import annotations

from django.core import checks

from . import registry


def _missing(module, mapping: dict) -> list[str]:
    return [name for name in getattr(module, "REQUIRED", ()) if not mapping.get(name)]


@checks.register(checks.Tags.compatibility)
def channels_configured_from_environment(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from . import config

    problems: list[checks.CheckMessage] = []
    for kind in registry.available():
        module = registry.module_for(kind)
        env_layer = config.env_layer(module)
        if env_layer and _missing(module, env_layer):
            problems.append(checks.Warning(
                f"{kind} is partly configured from the environment: missing {', '.join(_missing(module, env_layer))}.",
                hint="Set every variable of the channel (see README, Configuration) or none of them.",
                id=f"campaignid.W{100 + list(registry.MODULES).index(kind)}"))
    return problems


@checks.register(checks.Tags.database)
def channels_configured_in_database(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Runs with `campaignid check --database default` (and before `migrate`)."""
    from django.db import DatabaseError

    from . import config

    problems: list[checks.CheckMessage] = []
    if not databases:
        return problems
    for kind in registry.available():
        module = registry.module_for(kind)
        try:
            rows = list(config.ChannelConfig.objects.filter(channel=kind, enabled=True))
        except DatabaseError:
            continue  # before migrations
        for row in rows:
            try:
                mapping = config.resolve(kind, row.organisation_id, row.program_id)
                module.CHANNEL.config_from(mapping)
            except (KeyError, ValueError, config.NotConfigured) as exc:
                problems.append(checks.Warning(
                    f"{kind} is enabled for {row} but not fully configured: {exc}",
                    hint="Complete it in the dashboard (Settings > Integrations) or disable it.",
                    id=f"campaignid.W{110 + list(registry.MODULES).index(kind)}"))
    return problems
