"""``campaignid orange_subscribe``: register, list or delete Orange SMS delivery-receipt subscriptions."""

from django.core.management.base import BaseCommand, CommandError

from campaignid.channels.base import SendError
from campaignid.channels.config import NotConfigured
from campaignid.channels.orange_sms import receipt_setup
from campaignid.programs.models import Organisation


class Command(BaseCommand):
    help = ("Subscribe a receipts URL (…/webhooks/orange-sms/<webhook_secret>) to Orange SMS delivery receipts "
            "for an organisation's (or programme's) SMS account; --list or --delete ID to manage them.")

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="organisation slug")
        parser.add_argument("--programme", help="DHIS2 programme UID, when the programme has its own SMS account")
        parser.add_argument("--notify-url", help="public URL ending in /webhooks/orange-sms/<webhook_secret>")
        parser.add_argument("--country", action="append", default=[],
                            help="ISO code of a country sender (repeatable; default: the default country, "
                                 "else every country the account holds SMS units in)")
        parser.add_argument("--list", dest="list_only", action="store_true",
                            help="list the subscriptions made for this account")
        parser.add_argument("--delete", metavar="ID", help="delete a subscription")

    def handle(self, *args, organisation, programme, notify_url, country, list_only, delete, **options):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation {organisation!r}.")
        program = None
        if programme:
            program = org.programs.filter(dhis2_program_uid=programme).first()
            if program is None:
                raise CommandError(f"No programme {programme!r} in {organisation!r}.")
        if sum(bool(x) for x in (notify_url, list_only, delete)) != 1:
            raise CommandError("Give exactly one of --notify-url URL, --list or --delete ID.")
        try:
            config = receipt_setup.channel_config_for(org, program)
            row = receipt_setup.account_row(org, program)
            if list_only:
                self._list(row, config)
            elif delete:
                existed = receipt_setup.unsubscribe(row, config, delete, country[0] if country else "")
                self.stdout.write(f"deleted {delete}" if existed else f"{delete} was already gone")
            else:
                self._create(row, config, org, program, notify_url, country)
        except (NotConfigured, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except SendError as exc:
            raise CommandError(f"Orange refused: {exc.code} ({exc.category}) {exc.message}") from exc

    def _create(self, row, config, org, program, notify_url, codes):
        for problem in receipt_setup.notify_url_problems(config, notify_url):
            self.stderr.write(f"warning: {problem}")
        targets = receipt_setup.countries_for(config, codes)
        if not targets:
            raise CommandError("No country to subscribe: give --country.")
        callback_data = org.slug + (f":{program.dhis2_program_uid}" if program else "")
        for item in receipt_setup.subscribe(row, config, targets, notify_url, callback_data):
            self.stdout.write(f"subscribed {item['country']}: {item['id']}")

    def _list(self, row, config):
        items = receipt_setup.listing(row, config)
        if not items:
            self.stdout.write("no subscription recorded for this account")
        for item in items:
            state = f"active → {item['notify_url']}" if item["active"] else "gone"
            self.stdout.write(f"{item['id']}  {item['country']}  {state}")
