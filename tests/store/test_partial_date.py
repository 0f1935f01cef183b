import pytest

from store import partial_date
from store.errors import InvalidPartialDate


@pytest.mark.parametrize("value", ["2018", "2018-04", "2018-04-23", "2016-02-29"])
def test_real_dates_are_kept_as_given(value):
    assert partial_date.parse(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "18",
        "2018-4",
        "2018-13",
        "2018-02-30",
        "2017-02-29",
        "2018-04-23T10:00",
        "April 2018",
        "2018\n",
        "\u0662\u0660\u0661\u0668",  # 2018 in Arabic-Indic digits
        "",
        None,
        2018,
    ],
)
def test_anything_else_is_refused(value):
    with pytest.raises(InvalidPartialDate):
        partial_date.parse(value)


@pytest.mark.parametrize(
    ("value", "end"),
    [
        ("2018", "2019"),
        ("2018-04", "2018-05"),
        ("2018-12", "2019-01"),
        ("2018-04-30", "2018-05-01"),
        ("2018-12-31", "2019-01-01"),
        ("9999", "9999~"),
    ],
)
def test_period_end(value, end):
    assert partial_date.period_end(value) == end


def test_text_order_is_earliest_day_then_precision():
    dates = ["2018-05", "2018", "2018-04-01", "2017-12-31", "2018-04"]
    assert sorted(dates) == ["2017-12-31", "2018", "2018-04", "2018-04-01", "2018-05"]
