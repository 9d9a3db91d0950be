from django.urls import path

from . import views_leave

urlpatterns = [
    path("leave/", views_leave.leave_list, name="leave_list"),
    path("leave/new/", views_leave.leave_create, name="leave_create"),
    path("leave/<int:pk>/withdraw/", views_leave.leave_withdraw, name="leave_withdraw"),
    path("leave/<int:pk>/return/", views_leave.leave_return, name="leave_return"),
    path("leave/<int:pk>/attachment/", views_leave.leave_attachment, name="leave_attachment"),
]
