"""Tenants, programmes, beneficiaries, memberships and API tokens."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from campaignid.lib.crypto import hash_token, random_token

PREFIX_RE = re.compile(r"^[A-Z0-9]{2,6}(-[A-Z0-9]{2,6}){0,2}$")
COLOUR = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Colour must look like #0B5F56."))
UID_PATTERN = r"^[A-Za-z][A-Za-z0-9]{10}$"
UID_RE = re.compile(UID_PATTERN)
UID = RegexValidator(UID_PATTERN, _("A DHIS2 UID is 11 letters or digits, starting with a letter."))

DEFAULT_TEMPLATES = {
    "whatsapp": {
        "fr": "Bonjour {first_name}, voici votre carte {programme_name} ({card_code}). "
        "Conservez ce message. Vérification : {verification_url}",
        "en": "Hello {first_name}, here is your {programme_name} card ({card_code}). "
        "Keep this message. Check it at {verification_url}",
    },
    "sms": {
        "fr": "Bonjour {first_name}, votre carte {programme_name} est disponible : {verification_url}",
        "en": "Hello {first_name}, your {programme_name} card is available: {verification_url}",
    },
    # one message for the cards of a household (one phone, several beneficiaries)
    "sms_household": {
        "fr": "{programme_name} : {card_count} cartes pour votre famille. Ouvrez : {household_url}",
        "en": "{programme_name}: {card_count} cards for your family. Open: {household_url}",
    },
    "whatsapp_household": {
        "fr": "{programme_name} : voici les {card_count} cartes de votre famille. Toutes les cartes : "
        "{household_url}",
        "en": "{programme_name}: here are your family's {card_count} cards. All the cards: {household_url}",
    },
}


class Organisation(models.Model):
    """The tenant: a ministry of health or an NGO. Owns programmes, members, credentials."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    country = models.CharField(_("country"), max_length=2, default="SN", help_text=_("ISO 3166 alpha-2"))
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name


class Program(models.Model):
    """A programme or card campaign inside an organisation (the "campaign" of the log filters)."""

    LANGUAGES = [("fr", "Français"), ("en", "English")]

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(_("name"), max_length=200)
    dhis2_program_uid = models.CharField(_("DHIS2 programme UID"), max_length=11, validators=[UID])
    code_prefix = models.CharField(
        _("card code prefix"), max_length=20, help_text=_("e.g. DKR-VAC"),
        validators=[RegexValidator(PREFIX_RE, _("Upper-case letters and digits in 1–3 dash-separated groups."))],
    )
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES, default="fr")
    timezone = models.CharField(_("time zone"), max_length=64, default="Africa/Dakar")
    default_country = models.CharField(_("default country"), max_length=2, default="SN")
    primary_colour = models.CharField(_("primary colour"), max_length=7, default="#0B5F56", validators=[COLOUR])
    secondary_colour = models.CharField(_("secondary colour"), max_length=7, default="#F2C14E", validators=[COLOUR])
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    card_validity_days = models.PositiveIntegerField(_("card validity (days)"), default=5 * 365)
    # {"whatsapp": {"fr": "...", "en": "..."}, "sms": {...}}
    message_templates = models.JSONField(_("message templates"), default=dict, blank=True)
    # Channel options per programme (e.g. WhatsApp template names, SMS transliteration), set by later features.
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "dhis2_program_uid"], name="uniq_program_uid_per_org"),
            models.UniqueConstraint(fields=["code_prefix"], name="uniq_code_prefix"),
        ]

    def __str__(self) -> str:
        return self.name

    def template_for(self, channel: str, language: str | None = None) -> str:
        lang = language or self.language
        own = (self.message_templates or {}).get(channel, {})
        return own.get(lang) or DEFAULT_TEMPLATES.get(channel, {}).get(lang) or DEFAULT_TEMPLATES["sms"]["fr"]


class Beneficiary(models.Model):
    """One enrollment in a programme. Names and phone are personal data: never logged or exported."""

    SOURCES = [("dhis2", "DHIS2"), ("manual", _("manual")), ("import", _("import")), ("demo", _("demo"))]

    # no index of its own: every index below starts with the programme
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="beneficiaries", db_index=False)
    enrollment_id = models.CharField(_("enrollment ID"), max_length=64)
    tei_uid = models.CharField(_("DHIS2 tracked entity"), max_length=11, blank=True)
    first_name = models.CharField(_("first name"), max_length=120, blank=True)
    last_name = models.CharField(_("last name"), max_length=120, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    org_unit = models.CharField(_("org unit"), max_length=11, blank=True)
    org_unit_name = models.CharField(_("org unit name"), max_length=200, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=SOURCES, default="manual")
    enrollment_status = models.CharField(max_length=12, default="ACTIVE")
    enrolled_at = models.DateTimeField(_("enrolled at"), null=True, blank=True)
    opted_out = models.BooleanField(_("opted out"), default=False)
    household_excluded = models.BooleanField(
        _("sent separately"), default=False,
        help_text=_("Taken out of the household of its phone: its card always goes in a message of its own."))
    active = models.BooleanField(default=True, help_text=_("False once deleted or cancelled in DHIS2."))
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("beneficiaries")
        constraints = [
            models.UniqueConstraint(fields=["program", "enrollment_id"], name="uniq_enrollment_per_program"),
        ]
        indexes = [
            models.Index(fields=["program", "org_unit"], name="benef_program_ou"),
            models.Index(fields=["program", "enrolled_at"], name="benef_program_enrolled"),
            models.Index(fields=["tei_uid"], name="benef_tei"),
            # households: a programme's beneficiaries walked in phone order (keyset, flat memory)
            models.Index(fields=["program", "phone", "id"], name="benef_program_phone"),
            # the logs' beneficiary filter spans the organisation's programmes (the unique index starts with
            # the programme): without it, one look-up read every beneficiary, 240 ms at a million
            models.Index(fields=["enrollment_id"], name="benef_enrollment"),
            # the reach refresh reads, every minute, the beneficiaries changed since the last one
            models.Index(fields=["program", "updated_at"], name="benef_program_updated"),
        ]

    def __str__(self) -> str:
        return self.enrollment_id

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Membership(models.Model):
    ADMIN = "admin"
    PROGRAMME_ADMIN = "programme_admin"
    PROGRAMME_USER = "programme_user"
    HEALTH_WORKER = "health_worker"
    ROLES = [
        (ADMIN, _("Administrator")),
        (PROGRAMME_ADMIN, _("Programme administrator")),
        (PROGRAMME_USER, _("Programme user")),
        (HEALTH_WORKER, _("Health worker")),
    ]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES, default=PROGRAMME_USER)
    programs = models.ManyToManyField(
        Program, blank=True, help_text=_("Leave empty for every programme of the organisation.")
    )
    # Health workers: the DHIS2 org unit UIDs they serve; each covers its descendants (by the stored path).
    org_units = models.JSONField(_("org units"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True, help_text=_("False once deactivated: no access."))
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def can_manage_settings(self) -> bool:
        return self.role in (self.ADMIN, self.PROGRAMME_ADMIN)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token scoped to one organisation (optionally to some programmes); stored hashed."""

    PREFIX = "cid_"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text=_("First characters, to recognise it."))
    programs = models.ManyToManyField(Program, blank=True)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, organisation: Organisation, name: str, programs=()) -> tuple[ApiToken, str]:
        """Create a token; the clear value is returned once and never stored."""
        clear = random_token(cls.PREFIX)
        token = cls.objects.create(
            organisation=organisation, user=user, name=name, token_hash=hash_token(clear), hint=clear[:10]
        )
        if programs:
            token.programs.set(programs)
        return token, clear

    def clean(self) -> None:
        for program in self.programs.all():
            if program.organisation_id != self.organisation_id:
                raise ValidationError(_("A token can only be limited to programmes of its organisation."))


class Household(models.Model):
    """The beneficiaries of a programme who share one phone number (a parent's or a neighbour's phone for
    several children): one message carries all their cards. The holder page ``/h/<code>?k=<key>`` lists
    them; the code names it, the key (sent only to that phone) opens it."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="households")
    phone = models.CharField(_("phone (E.164)"), max_length=20)
    code = models.CharField(max_length=12, unique=True)
    key = models.CharField(max_length=32, help_text=_("Secret carried in the household link (?k=…)."))
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "phone"], name="uniq_household_phone")]

    def __str__(self) -> str:
        return self.code


class OrgUnit(models.Model):
    """A DHIS2 organisation unit (region, district, health post…) as the organisation's DHIS2 reports it,
    stored for the beneficiaries' org units and their ancestors by the DHIS2 sync. ``path`` is DHIS2's
    ``/root/…/uid``; level 1 is the root."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="org_units")
    uid = models.CharField(_("UID"), max_length=11)
    name = models.CharField(_("name"), max_length=230, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    parent = models.CharField(_("parent UID"), max_length=11, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["level", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "uid"], name="uniq_org_unit")]

    def __str__(self) -> str:
        return f"{self.name} ({self.uid})"

    @property
    def ancestors(self) -> list[str]:
        """UIDs from the root down to the parent."""
        return [p for p in self.path.strip("/").split("/") if p][:-1]
