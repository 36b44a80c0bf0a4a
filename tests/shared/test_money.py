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
    with pytest.raises(ValueError, match="amount must be >= 0"):
        apportion(-1, [1])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        apportion(1, [1, -1])
    with pytest.raises(ValueError, match="non-zero amount over no weights"):
        apportion(1, [])
    assert apportion(0, []) == []


def largest_remainder(amount: int, weights: list[int]) -> list[int]:
    """The rule written the slow, obvious way, with exact fractions."""
    from fractions import Fraction

    total = sum(weights) or len(weights)
    weights = weights if sum(weights) else [1] * len(weights)
    exact = [Fraction(amount * w, total) for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:amount - sum(shares)]:
        shares[i] += 1
    return shares


@given(amount=st.integers(min_value=0, max_value=10**6), weights=weights_strategy)
def test_the_fen_left_over_go_to_the_largest_remainders(amount, weights):
    assert apportion(amount, weights) == largest_remainder(amount, weights)


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (1234, "12.34"), (-5, "-0.05"), (100000, "1000.00")])
def test_yuan_formatting_round_trips(fen, text):
    assert format_yuan(fen) == text
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["1.234", "abc", "", "1.2.3", "1,00", "X1", "1X"])
def test_parse_yuan_refuses_what_it_cannot_represent(text):
    with pytest.raises(ValueError, match="not an amount in yuan"):
        parse_yuan(text)


@pytest.mark.parametrize("text, fen", [("1.5", 150), ("12", 1200), ("+3.07", 307), ("-0.5", -50), (" 7.1 ", 710)])
def test_parse_yuan_reads_what_people_type(text, fen):
    assert parse_yuan(text) == fen
