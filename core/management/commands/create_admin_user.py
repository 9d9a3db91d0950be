"""Creates one of the three separated administrators (三员): there is no superuser."""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core import services
from core.choices import ADMIN_ROLES
from core.models import User


class Command(BaseCommand):
    help = "创建系统管理员、安全管理员或审计管理员账号（三员分立，无超级用户）。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in ADMIN_ROLES])
        parser.add_argument("--full-name", default="")
        parser.add_argument("--password", help="密码（不给则交互输入）")

    def handle(self, *args, **options):
        username = options["username"]
        password = options["password"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户名 {username} 已存在。")
        if not password:
            if not sys.stdin.isatty():
                raise CommandError("非交互运行时请用 --password 给出密码。")
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致。")
        try:
            services.user_create(
                actor=None,
                username=username,
                password=password,
                full_name=options["full_name"],
                role=options["role"],
                must_change_password=True,
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"已创建 {username}（{options['role']}），首次登录须修改密码。")
        )
