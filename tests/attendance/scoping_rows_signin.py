"""Scoping rows of the sign-in and help log URLs (merged by tests/test_scoping.py).

The pages several roles use (a cadre and a team leader sign in; every role
with the view permission lists sign-ins), the POST-only acceptance, the photo
URLs and the API are tested both ways in tests/attendance/test_signins.py,
test_helplogs.py and test_signin_api.py, hence COVERED.
"""

ROUTES = {
    "village_point": (
        "village_point",
        lambda w: {"pk": w.village.pk},
        "township",
        "other_township",
    ),
    "village_point:county": (
        "village_point",
        lambda w: {"pk": w.village.pk},
        "county",
        "far_county",
    ),
}

COVERED = {
    "signin_page",
    "signin_list",
    "signin_accept",
    "signin_photo",
    "helplog_page",
    "helplog_photo",
    "api_token",
    "api_signins",
    "api_help_logs",
}
