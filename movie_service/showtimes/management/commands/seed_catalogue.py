from django.core.management.base import BaseCommand

from movie_service.showtimes.demo import catalogue_is_empty, seed_catalogue


class Command(BaseCommand):
    help = "Create the demo catalogue (a dozen movies, three cinemas, a week of showtimes); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any movie exists")
        parser.add_argument("--days", type=int, default=7, help="days of showtimes from today (default 7)")

    def handle(self, *args, if_empty: bool = False, days: int = 7, **options):
        if if_empty and not catalogue_is_empty():
            self.stdout.write("The catalogue has movies already; nothing to do (--if-empty).")
            return
        report = seed_catalogue(days=days)
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue: {report}."))
