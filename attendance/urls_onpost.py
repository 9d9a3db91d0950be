"""Pages of the 200-day check (included at attendance/)."""

from django.urls import path

from . import views_onpost

urlpatterns = [
    path("on-post/", views_onpost.on_post_list, name="on_post_list"),
]
