from django.urls import path

from . import views_rosters

urlpatterns = [
    path("<str:kind>/template/", views_rosters.roster_template, name="roster_template"),
    path("<str:kind>/export/", views_rosters.roster_export, name="roster_export"),
]
