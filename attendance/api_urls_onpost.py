"""API URLs of the 200-day check (included at api/v1/)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import api_onpost

# DRF answers 401/403 in JSON itself (IsAuthenticated and the permissions), so
# the view is taken out of LoginRequiredMiddleware's redirect to the login page.
urlpatterns = [
    path(
        "attendance/on-post/",
        login_not_required(api_onpost.OnPostView.as_view()),
        name="api_attendance_on_post",
    ),
]
