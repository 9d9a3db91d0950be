from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import api_leave

# DRF answers 401/403 in JSON itself (IsAuthenticated), so these views are taken
# out of LoginRequiredMiddleware's redirect to the login page.
urlpatterns = [
    path(
        "leave-requests/",
        login_not_required(api_leave.LeaveRequestsView.as_view()),
        name="api_leave_requests",
    ),
    path(
        "leave-requests/<int:pk>/withdraw/",
        login_not_required(api_leave.LeaveWithdrawView.as_view()),
        name="api_leave_request_withdraw",
    ),
    path(
        "leave-requests/<int:pk>/return/",
        login_not_required(api_leave.LeaveReturnView.as_view()),
        name="api_leave_request_return",
    ),
]
