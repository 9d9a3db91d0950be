"""Roster uploads (included at ``imports/``) and cadre account activation.

The two activation pages live here too; the project may also include
``activation_urlpatterns`` at the site root (``/activation/``,
``/accounts/activate/``) instead of under ``imports/``.
"""

from django.urls import path

from . import views_imports as views

import_urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/errors.xlsx", views.import_errors, name="import_errors"),
    path("<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
]

activation_urlpatterns = [
    path("activation/", views.activation_codes, name="activation_codes"),
    path("accounts/activate/", views.account_activate, name="account_activate"),
]

urlpatterns = import_urlpatterns + activation_urlpatterns
