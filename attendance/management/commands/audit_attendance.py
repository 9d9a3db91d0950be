"""python manage.py audit_attendance --month YYYY-MM [--township NAME] [--county NAME]

Runs the monthly audit of a county (or of one township), replacing that
month's figures, and prints the rows computed per township."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from attendance.audit import AuditLocked, MonthNotOver, audit_month, parse_month
from core.choices import AreaLevel
from core.models import Area


class Command(BaseCommand):
    help = "运行月度考勤审计（替换该月的考勤数据），按乡镇输出人数。"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="月份，格式 YYYY-MM")
        parser.add_argument("--township", default="", help="只审计这个乡镇（名称）")
        parser.add_argument("--county", default="", help="县（旗、区）名称；只有一个县时可省略")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(f"月份格式不对：{options['month']}，应为 YYYY-MM。") from exc
        county = self._county(options["county"].strip())
        township = None
        if options["township"].strip():
            name = options["township"].strip()
            township = Area.objects.filter(
                level=AreaLevel.TOWNSHIP, county=county, name=name
            ).first()
            if township is None:
                raise CommandError(f"{county.name}没有名为“{name}”的乡镇。")
        try:
            result = audit_month(
                actor=None, county=county, month=month, township=township, via="command"
            )
        except AuditLocked as exc:
            names = "、".join(t.name for t in exc.townships)
            raise CommandError(
                f"{names} {month:%Y年%m月}的月度考勤已备案（锁定），"
                "须由县驻村办在系统中重新打开后才能重新审计。"
            ) from exc
        except MonthNotOver as exc:
            raise CommandError(f"{month:%Y年%m月}尚未结束，月份结束后才能审计。") from exc
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(
                "审计未完成：" + "；".join(getattr(exc, "messages", [str(exc)]))
            ) from exc
        self.stdout.write(f"{county.name} {month:%Y年%m月} 月度考勤审计完成：")
        for item in result["townships"]:
            if item["skipped"]:
                self.stdout.write(f"  {item['name']}：已备案，未重算")
            else:
                self.stdout.write(f"  {item['name']}：{item['rows']} 人")
        self.stdout.write(self.style.SUCCESS(f"合计 {result['rows']} 人。"))

    def _county(self, name: str) -> Area:
        counties = Area.objects.filter(level=AreaLevel.COUNTY)
        if name:
            county = counties.filter(name=name).first()
            if county is None:
                raise CommandError(f"没有名为“{name}”的县（旗、区）。")
            return county
        found = list(counties[:2])
        if not found:
            raise CommandError("系统中还没有县（旗、区）。")
        if len(found) > 1:
            raise CommandError("系统中有多个县（旗、区），请用 --county 指定名称。")
        return found[0]
