"""The morning window's end is a county setting of its own (the rules' four
window numbers: morning from 06:00 up to 12:00, afternoon from 12:00 up to
22:00). Existing counties keep their windows: the morning ran up to the
afternoon's start, so that is where it ends."""

import datetime

from django.db import migrations, models
from django.db.models import F, Q


def morning_ends_where_the_afternoon_starts(apps, schema_editor):
    settings = apps.get_model("attendance", "AttendanceSettings")
    settings.objects.update(morning_end=F("afternoon_start"))


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="attendancesettings",
            name="attendance_attendancesettings_windows_ordered",
        ),
        migrations.AddField(
            model_name="attendancesettings",
            name="morning_end",
            field=models.TimeField(
                default=datetime.time(12, 0), verbose_name="morning sign-in until"
            ),
        ),
        migrations.RunPython(
            morning_ends_where_the_afternoon_starts, migrations.RunPython.noop, elidable=True
        ),
        migrations.AddConstraint(
            model_name="attendancesettings",
            constraint=models.CheckConstraint(
                condition=Q(morning_start__lt=F("morning_end"))
                & Q(morning_end__lte=F("afternoon_start"))
                & Q(afternoon_start__lt=F("day_end")),
                name="attendance_attendancesettings_windows_in_order",
                violation_error_message=(
                    "The morning must start before the afternoon, and the afternoon before the end."
                ),
            ),
        ),
    ]
