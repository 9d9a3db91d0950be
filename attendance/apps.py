from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from core import dashboard

        from .panels import on_post_at_risk_panel
        from .views_audit import calendar_panel

        dashboard.register(calendar_panel)
        dashboard.register(on_post_at_risk_panel)
