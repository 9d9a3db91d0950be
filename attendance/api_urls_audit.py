"""API URLs of the monthly audit (included at ``api/v1/``). DRF answers 401/403
in JSON itself, so the views are taken out of LoginRequiredMiddleware's
redirect to the login page."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import api_audit

urlpatterns = [
    path(
        "attendance/monthly/",
        login_not_required(api_audit.MonthlyAttendanceView.as_view()),
        name="api_attendance_monthly",
    ),
]
