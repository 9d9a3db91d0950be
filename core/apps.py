from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Areas, users and audit")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
