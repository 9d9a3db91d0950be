"""import_roster: a roster file imported from the command line, all or nothing.

    python manage.py import_roster {villages,cadres,households,pairings} FILE
        [--township NAME] [--county NAME] [--dry-run]

Without --township the file is imported as the county office (a villages
roster then creates the townships it names); with it, as that township's
office. --county picks the county when there are several, or when township
names repeat across counties. Prints the counts of new, changed and unchanged
rows and each error as "row N, column C: message"; exits non-zero, having
written nothing, when anything is wrong.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.choices import AreaLevel
from core.models import Area
from teams.importers import CheckResult, RosterError, RosterInvalid, apply_roster, check_roster
from teams.rosters import MAX_BYTES, ROSTERS


class Command(BaseCommand):
    help = (
        "导入花名册（村情、驻村工作队、帮扶户、结对帮扶），全部成功才写入。"
        "Import a roster file, all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(ROSTERS), help="花名册种类")
        parser.add_argument("file", help=".xlsx、.xls 或 .csv 文件")
        parser.add_argument("--township", default="", help="以该乡镇驻村办的身份导入")
        parser.add_argument("--county", default="", help="县（旗）名称；有多个县时必须给出")
        parser.add_argument(
            "--dry-run", action="store_true", help="只检查并显示结果，不写入任何内容"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"文件超过{MAX_BYTES // 1024 // 1024}MB的上限：{path}")
        county, township = self._areas(options["county"].strip(), options["township"].strip())
        arguments = {
            "kind": options["kind"],
            "data": path.read_bytes(),
            "filename": path.name,
            "actor": None,
            "county": county,
            "township": township,
        }
        who = f"{county.name}{township.name if township else '（县级）'}"
        try:
            run = check_roster if options["dry_run"] else apply_roster
            result = run(**arguments)
        except RosterInvalid as exc:
            self._report(exc.result)
            raise CommandError(f"有{len(exc.result.errors)}处错误，没有写入任何内容。") from exc
        except RosterError as exc:
            raise CommandError(exc.message) from exc
        self._report(result)
        if not result.ok:
            raise CommandError(f"有{len(result.errors)}处错误（检查，未写入）。")
        verb = "检查通过（未写入）" if options["dry_run"] else "已导入"
        self.stdout.write(self.style.SUCCESS(f"{verb}：{ROSTERS[options['kind']].title}，{who}"))

    def _report(self, result: CheckResult) -> None:
        counts = result.counts
        self.stdout.write(
            f"rows {result.total_rows}: new {counts['new']}, changed {counts['changed']}, "
            f"unchanged {counts['unchanged']}"
            f"（新增{counts['new']}行，修改{counts['changed']}行，未变{counts['unchanged']}行）"
        )
        for warning in result.warnings:
            self.stdout.write(
                f"warning: row {warning['row']}, column {warning['column']}: {warning['message']}"
            )
        for error in result.errors:
            self.stderr.write(f"row {error['row']}, column {error['column']}: {error['message']}")

    @staticmethod
    def _areas(county_name: str, township_name: str) -> tuple[Area, Area | None]:
        counties = Area.objects.filter(level=AreaLevel.COUNTY)
        if county_name:
            county = counties.filter(name=county_name).first()
            if county is None:
                raise CommandError(f"没有名为“{county_name}”的县（旗）。")
        elif township_name:
            matches = list(
                Area.objects.filter(level=AreaLevel.TOWNSHIP, name=township_name).select_related(
                    "county"
                )
            )
            if not matches:
                raise CommandError(f"没有名为“{township_name}”的乡镇。")
            if len(matches) > 1:
                names = "、".join(sorted(m.county.name for m in matches))
                raise CommandError(
                    f"有多个县都有“{township_name}”（{names}），请用 --county 指定县。"
                )
            return matches[0].county, matches[0]
        else:
            found = list(counties[:2])
            if not found:
                raise CommandError("还没有县（旗）：请先运行 setup_county。")
            if len(found) > 1:
                raise CommandError("平台中有多个县（旗），请用 --county 指定县。")
            county = found[0]
        if not township_name:
            return county, None
        township = Area.objects.filter(
            level=AreaLevel.TOWNSHIP, county=county, name=township_name
        ).first()
        if township is None:
            raise CommandError(f"{county.name}没有名为“{township_name}”的乡镇。")
        return county, township
