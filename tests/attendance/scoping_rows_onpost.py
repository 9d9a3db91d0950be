"""Scoping rows of the 200-day check's URLs.

Both are covered both ways in tests/attendance/test_onpost_api.py: the page is
used by several roles (county, township, village, unit, inspector, cadre; the
administrators get 403) and the API answers 401/403/404 in JSON instead of the
login redirect that tests/test_scoping.py expects.
"""

COVERED = {"on_post_list", "api_attendance_on_post"}
