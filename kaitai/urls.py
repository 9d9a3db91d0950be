from django.contrib import admin
from django.urls import include, path

from teams import urls_imports

admin.site.site_header = "驻村工作队管理平台 · 管理控制台"
admin.site.site_title = "驻村工作队管理平台"
admin.site.index_title = "管理控制台"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("core.urls")),
    path("", include("teams.urls")),
    path("imports/", include(urls_imports.import_urlpatterns)),
    path("", include(urls_imports.activation_urlpatterns)),
    path("rosters/", include("teams.urls_rosters")),
    path("api/v1/", include("teams.api_urls")),
    path("attendance/", include("attendance.urls_audit")),
    path("attendance/", include("attendance.urls_signin")),
    path("attendance/", include("attendance.urls_leave")),
    path("attendance/", include("attendance.urls_onpost")),
    path("api/v1/", include("attendance.api_urls_audit")),
    path("api/v1/", include("attendance.api_urls_signin")),
    path("api/v1/", include("attendance.api_urls_leave")),
    path("api/v1/", include("attendance.api_urls_onpost")),
]

handler403 = "core.views.permission_denied"
