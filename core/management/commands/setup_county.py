"""First-time setup of a real county: the county and its first county-office user."""

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import services
from core.choices import AreaKind, AreaLevel, Role
from core.models import Area, User


class Command(BaseCommand):
    help = "创建一个县（旗）及其第一个县委组织部（驻村办）账号。Create a county and its first county-office user."

    def add_arguments(self, parser):
        parser.add_argument("name", help="县（旗）名称，如 开鲁县")
        parser.add_argument("--code", default="", help="行政区划代码（6位），如 150523")
        parser.add_argument("--kind", default="", choices=["", "县", "旗", "区", "市"])
        parser.add_argument("--admin", help="县级账号的用户名")
        parser.add_argument("--password", help="密码（不给则交互输入）")
        parser.add_argument("--full-name", default="", help="账号使用人姓名")

    def handle(self, *args, **options):
        name = options["name"].strip()
        if not name:
            raise CommandError("县名称不能为空。")
        kind = options["kind"] or (AreaKind.BANNER if name.endswith("旗") else AreaKind.COUNTY)
        username = options["admin"]
        password = options["password"]
        if password and not username:
            raise CommandError("给出 --password 时必须同时给出 --admin。")
        if username and not password:
            if not self.stdin_isatty():
                raise CommandError("非交互运行时请用 --password 给出密码。")
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致。")
        try:
            with transaction.atomic():
                county, created = self._county(name, kind, options["code"])
                if username:
                    if User.objects.filter(username=username).exists():
                        raise CommandError(f"用户名 {username} 已存在。")
                    services.user_create(
                        actor=None,
                        username=username,
                        password=password,
                        full_name=options["full_name"],
                        role=Role.COUNTY_OFFICE,
                        scope_area=county,
                        must_change_password=False,
                    )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        verb = "已创建" if created else "已存在"
        self.stdout.write(self.style.SUCCESS(f"{verb}：{county.name}（编号 {county.pk}）"))
        if username:
            self.stdout.write(self.style.SUCCESS(f"县级账号：{username}"))

    @staticmethod
    def stdin_isatty() -> bool:
        import sys

        return sys.stdin.isatty()

    @staticmethod
    def _county(name: str, kind: str, code: str):
        existing = Area.objects.filter(level=AreaLevel.COUNTY, name=name).first()
        if existing:
            return existing, False
        county = Area(level=AreaLevel.COUNTY, kind=kind, name=name, code=code)
        county.full_clean()
        county.save()
        return county, True
