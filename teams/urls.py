from django.urls import path

from . import views

urlpatterns = [
    path("cadres/", views.cadre_list, name="cadre_list"),
    path("cadres/<int:pk>/", views.cadre_detail, name="cadre_detail"),
    path("cadres/<int:pk>/reveal/", views.cadre_reveal, name="cadre_reveal"),
    path("villages/<int:pk>/team/", views.village_team, name="village_team"),
    path("households/", views.household_list, name="household_list"),
    path("pairings/", views.pairing_list, name="pairing_list"),
    path("visits/monthly/", views.visit_monthly, name="visit_monthly"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/photos/<int:pk>/", views.visit_photo, name="visit_photo"),
    path("reports/matching/", views.matching_report, name="matching_report"),
    path("reports/team-structure/", views.team_structure, name="team_structure"),
]
