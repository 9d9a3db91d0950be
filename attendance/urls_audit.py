"""URLs of the working calendar, the county settings and the monthly audit
(included at ``attendance/``)."""

from django.urls import path

from . import views_audit as views

urlpatterns = [
    path("calendar/", views.calendar_year, name="calendar_year"),
    path("calendar/day/", views.calendar_day, name="calendar_day"),
    path("calendar/confirm/", views.calendar_confirm, name="calendar_confirm"),
    path("settings/", views.attendance_settings, name="attendance_settings"),
    path("audit/", views.audit_results, name="audit_results"),
    path("audit/run/", views.audit_run, name="audit_run"),
    path("audit/run/<uuid:job_id>/", views.audit_progress, name="audit_progress"),
    path("audit/batches/<int:pk>/submit/", views.audit_batch_submit, name="audit_batch_submit"),
    path("audit/batches/<int:pk>/file/", views.audit_batch_file, name="audit_batch_file"),
    path("audit/batches/<int:pk>/reopen/", views.audit_batch_reopen, name="audit_batch_reopen"),
    path("audit/record-book/<int:pk>/", views.audit_record_book, name="audit_record_book"),
    path("subsidy/", views.subsidy_statement, name="subsidy_statement"),
]
