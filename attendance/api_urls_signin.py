"""API URLs of sign-ins, help logs and tokens (included at api/v1/)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import api_signin

# DRF views answer 401/403 in JSON themselves (IsAuthenticated and the
# permissions), so they are taken out of LoginRequiredMiddleware's redirect.
urlpatterns = [
    path("auth/token/", login_not_required(api_signin.TokenView.as_view()), name="api_token"),
    path("signins/", login_not_required(api_signin.SignInsView.as_view()), name="api_signins"),
    path("help-logs/", login_not_required(api_signin.HelpLogsView.as_view()), name="api_help_logs"),
]
