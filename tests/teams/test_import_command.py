"""manage.py import_roster: counts, errors as "row N, column C: message", a
non-zero exit and nothing written when anything is wrong."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from core.choices import AreaLevel, AuditAction
from core.models import Area, AuditLog
from teams.models import Cadre
from tests.factories import make_township
from tests.teams.test_import_kit import cadre, roster_file, village

pytestmark = pytest.mark.django_db


def _file(tmp_path, kind: str, records: list[dict], name: str = "") -> str:
    path = tmp_path / (name or f"{kind}.xlsx")
    path.write_bytes(roster_file(kind, records))
    return str(path)


def _call(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roster", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_county_import_creates_townships(world, tmp_path):
    path = _file(
        tmp_path, "villages", [village("丁乡", "东村"), village("甲镇", "一村", 村分类="示范村")]
    )
    out, _ = _call("villages", path, county="测试县")
    assert "new 1, changed 1, unchanged 0" in out
    assert "warning: row 2, column 乡镇: 将新建乡镇“丁乡”" in out
    assert Area.objects.filter(level=AreaLevel.TOWNSHIP, name="丁乡", county=world.county).exists()
    entry = AuditLog.objects.get(action=AuditAction.OBJECT_CREATE)
    assert entry.username == "manage.py" and entry.actor is None
    out, _ = _call("villages", path, county="测试县")
    assert "new 0, changed 0, unchanged 2" in out


def test_errors_exit_non_zero_and_write_nothing(world, tmp_path):
    path = _file(tmp_path, "cadres", [cadre(), cadre("乙镇", "二村"), cadre(学历="小学")])
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_roster", "cadres", path, township="甲镇", stdout=io.StringIO(), stderr=err
        )
    assert "没有写入任何内容" in str(caught.value)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 3, column 乡镇: 只能导入本乡镇（甲镇）的数据")
    assert lines[1].startswith("row 4, column 学历: ")
    assert not Cadre.objects.exists()


def test_dry_run_writes_nothing(world, tmp_path):
    path = _file(tmp_path, "cadres", [cadre(), cadre()])
    out, _ = _call("cadres", path, township="甲镇", dry_run=True)
    assert "new 2, changed 0, unchanged 0" in out and "未写入" in out
    assert not Cadre.objects.exists()
    assert not AuditLog.objects.filter(action=AuditAction.OBJECT_CREATE).exists()
    bad = _file(tmp_path, "cadres", [cadre(学历="小学")], name="bad.xlsx")
    with pytest.raises(CommandError):
        _call("cadres", bad, township="甲镇", dry_run=True)


def test_township_import(world, tmp_path):
    path = _file(tmp_path, "cadres", [cadre()])
    out, _ = _call("cadres", path, township="甲镇")
    assert "new 1" in out and Cadre.objects.count() == 1


def test_choosing_the_county(world, tmp_path):
    path = _file(tmp_path, "villages", [village("甲镇", "新村")])
    with pytest.raises(CommandError) as caught:
        _call("villages", path)
    assert "--county" in str(caught.value)  # two counties in the world
    make_township(world.other_county, "甲镇")
    with pytest.raises(CommandError) as caught:
        _call("villages", path, township="甲镇")
    assert "测试县、邻县" in str(caught.value) and "--county" in str(caught.value)
    _call("villages", path, township="甲镇", county="测试县")
    assert Area.objects.get(name="新村").county == world.county
    with pytest.raises(CommandError):
        _call("villages", path, county="无此县")
    with pytest.raises(CommandError):
        _call("villages", path, township="无此镇", county="测试县")


def test_whole_file_problems(world, tmp_path):
    html = tmp_path / "v.xlsx"
    html.write_bytes(b"<html><body>x</body></html>")
    with pytest.raises(CommandError) as caught:
        _call("villages", str(html), county="测试县")
    assert "网页" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        _call("villages", str(tmp_path / "missing.xlsx"), county="测试县")
    assert "找不到文件" in str(caught.value)
    with pytest.raises(CommandError):
        _call("teams", str(html), county="测试县")
