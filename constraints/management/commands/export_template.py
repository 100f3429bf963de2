from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from constraints.template_io import TemplateError, dumps, export_template


class Command(BaseCommand):
    help = "Write the active configuration as a template (JSON) to PATH, or to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="File to write; stdout when left out")

    def handle(self, *args, path: str | None, **options) -> None:
        try:
            text = dumps(export_template())
        except TemplateError as exc:
            raise CommandError(str(exc)) from exc
        if path:
            Path(path).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {path}.")
        else:
            self.stdout.write(text, ending="")
