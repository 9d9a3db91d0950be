"""Pages of sign-ins and help logs (included at attendance/)."""

from django.urls import path

from . import views_signin

urlpatterns = [
    path("signin/", views_signin.signin_page, name="signin_page"),
    path("signins/", views_signin.signin_list, name="signin_list"),
    path("signins/<int:pk>/accept/", views_signin.signin_accept, name="signin_accept"),
    path("signins/<int:pk>/photo/", views_signin.signin_photo, name="signin_photo"),
    path("helplog/", views_signin.helplog_page, name="helplog_page"),
    path("helplog/photos/<uuid:uuid>/", views_signin.helplog_photo, name="helplog_photo"),
    path("villages/<int:pk>/point/", views_signin.village_point, name="village_point"),
]
