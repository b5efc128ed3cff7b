from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaignid.programs.access import memberships_of
from campaignid.programs.models import ApiToken, Organisation


class Command(BaseCommand):
    help = "Create an API token for a user and print it (shown once; stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--organisation", help="organisation slug (default: the user's only organisation)")
        parser.add_argument("--name", default="cli", help="a label for the token")
        parser.add_argument("--programme", action="append", default=[], help="limit to a DHIS2 programme UID")

    def handle(self, *args, user, organisation, name, programme, **options):
        u = get_user_model().objects.filter(username=user).first()
        if u is None:
            raise CommandError(f"No user {user!r}.")
        orgs = [m.organisation for m in memberships_of(u)]
        if organisation:
            org = Organisation.objects.filter(slug=organisation).first()
            if org is None or (org not in orgs and not u.is_superuser):
                raise CommandError(f"{user} is not a member of organisation {organisation!r}.")
        elif len(orgs) == 1:
            org = orgs[0]
        else:
            slugs = ", ".join(o.slug for o in orgs) or "none"
            raise CommandError(f"Choose an organisation with --organisation (member of: {slugs}).")
        programs = list(org.programs.filter(dhis2_program_uid__in=programme))
        if len(programs) != len(set(programme)):
            raise CommandError("Unknown programme UID for this organisation.")
        _, clear = ApiToken.issue(u, org, name, programs)
        self.stdout.write(clear)
