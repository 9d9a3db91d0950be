"""python manage.py check_on_post --year YYYY [--as-of YYYY-MM-DD] [--county NAME]"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from attendance import onpost
from attendance.choices import OnPostStatus
from core.choices import AreaLevel
from core.models import Area

STATUS_WORDS = {
    OnPostStatus.AT_RISK: "有风险",
    OnPostStatus.ON_TRACK: "可达标",
    OnPostStatus.MET: "已达标",
}


class Command(BaseCommand):
    help = (
        "200天在岗检查：按年计算每名队员的应在岗天数、已在岗天数、剩余工作日和状态。"
        "Run the 200-day check of a year."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年份，如 2026")
        parser.add_argument(
            "--as-of",
            dest="as_of",
            default="",
            help="截至日期 YYYY-MM-DD（默认今天；往年默认12月31日）",
        )
        parser.add_argument("--county", default="", help="县（旗）名称（默认全部）")

    def handle(self, *args, **options):
        year = options["year"]
        if not 2000 <= year <= 2100:
            raise CommandError("年份应在 2000 至 2100 之间。")
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError("截至日期格式应为 YYYY-MM-DD。") from exc
        county = None
        if options["county"]:
            county = Area.objects.filter(level=AreaLevel.COUNTY, name=options["county"]).first()
            if county is None:
                raise CommandError(f"没有名为 {options['county']} 的县（旗）。")
        try:
            results = onpost.check_on_post(county=county, year=year, as_of=as_of, via="command")
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        names = dict(
            Area.objects.filter(pk__in=[r["county"] for r in results]).values_list("pk", "name")
        )
        for result in results:
            counts = "，".join(
                f"{STATUS_WORDS[s]}（{s.value}）{result[s.value]}" for s in onpost.STATUS_ORDER
            )
            self.stdout.write(
                f"{names.get(result['county'], result['county'])} {year}年（截至 {result['as_of']}）："
                f"{result['rows']} 人；{counts}"
            )
        if not results:
            self.stdout.write("没有县（旗）需要检查。")
