import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import apportion, format_yuan, parse_yuan

weights_strategy = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=30)


@given(amount=st.integers(min_value=0, max_value=10**10), weights=weights_strategy)
def test_shares_sum_exactly_and_are_never_negative(amount, weights):
    shares = apportion(amount, weights)
    assert sum(shares) == amount
    assert all(share >= 0 for share in shares)
    assert len(shares) == len(weights)


@given(weights=weights_strategy, data=st.data())
def test_a_discount_never_exceeds_a_line(weights, data):
    amount = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    assert all(share <= weight for share, weight in zip(apportion(amount, weights), weights, strict=True))


@given(amount=st.integers(min_value=0, max_value=10**10), weights=weights_strategy)
def test_each_share_is_within_one_fen_of_its_exact_proportion(amount, weights):
    total = sum(weights) or len(weights)
    even = sum(weights) == 0
    for share, weight in zip(apportion(amount, weights), weights, strict=True):
        exact_times_total = amount * (1 if even else weight)
        assert abs(share * total - exact_times_total) < total  # |share - exact| < 1 fen


def test_remainder_goes_to_largest_fraction_then_earlier_line():
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(10, [3, 3, 4]) == [3, 3, 4]
    assert apportion(1000, [3333, 3333, 3334]) == [333, 333, 334]
    assert apportion(5, [0, 0]) == [3, 2]


def test_rejects_negative_amounts_and_weights():
    with pytest.raises(ValueError):
        apportion(-1, [1])
    with pytest.raises(ValueError):
        apportion(1, [1, -1])
    with pytest.raises(ValueError):
        apportion(1, [])
    assert apportion(0, []) == []


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (1234, "12.34"), (-5, "-0.05"), (100000, "1000.00")])
def test_yuan_formatting_round_trips(fen, text):
    assert format_yuan(fen) == text
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["1.234", "abc", "", "1.2.3", "1,00"])
def test_parse_yuan_refuses_what_it_cannot_represent(text):
    with pytest.raises(ValueError):
        parse_yuan(text)
