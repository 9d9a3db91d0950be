from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from . import api

# DRF views answer 403 in JSON themselves (IsAuthenticated), so they are taken
# out of LoginRequiredMiddleware's login redirect.
urlpatterns = [
    path(
        "stats/team-structure/",
        login_not_required(api.TeamStructureView.as_view()),
        name="api_team_structure",
    ),
    path("stats/overview/", login_not_required(api.OverviewView.as_view()), name="api_overview"),
    path(
        "schema/",
        login_not_required(
            SpectacularAPIView.as_view(
                authentication_classes=[SessionAuthentication],
                permission_classes=[IsAuthenticated],
            )
        ),
        name="api_schema",
    ),
    # The interactive documentation (Swagger UI, files served from static/):
    # a page for people, behind the login page like the rest of the portal.
    path(
        "docs/",
        login_required(  # DRF marks its views login_not_required: the redirect is here
            SpectacularSwaggerView.as_view(
                url_name="api_schema",
                authentication_classes=[SessionAuthentication],
                permission_classes=[IsAuthenticated],
            )
        ),
        name="api_docs",
    ),
]
