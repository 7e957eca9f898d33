import pytest

from rag.numbers import all_found, numbers_in, readings


@pytest.mark.parametrize("token,expected", [
    ("2.141", {"2141", "2.141"}),
    ("2,141", {"2141", "2.141"}),
    ("2 141", {"2141"}),
    ("1\u00a0770", {"1770"}),
    ("2141", {"2141"}),
    ("5,7", {"5.7"}),
    ("391.000", {"391000", "391"}),
    ("1.234,5", {"1234.5"}),
    ("007", {"7"}),
])
def test_readings(token, expected):
    assert readings(token) == expected


@pytest.mark.parametrize("claim,source,ok", [
    ("Cambodia arrested 2,141 suspects", "Campuchia đã bắt giữ 2.141 nghi phạm", True),
    ("柬埔寨逮捕了2141名嫌疑人", "Campuchia đã bắt giữ 2.141 nghi phạm", True),
    ("Il a détruit 1 770 repaires", "destroyed 1,770 dens", True),
    ("Myanmar handed over 5,500 suspects", "Campuchia đã bắt giữ 2.141 nghi phạm", False),
    ("No numbers here", "anything", True),
    ("en hausse de 5,7%", "up 5.7% from 2021", True),
])
def test_all_found(claim, source, ok):
    assert all_found(claim, source) is ok


def test_numbers_in_order():
    assert numbers_in("Le 5 août 2017, 77 suspects et 6 millions") == [{"5"}, {"2017"}, {"77"}, {"6"}]
