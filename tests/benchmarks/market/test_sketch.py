"""The numpy sketch of the campaign rules (benchmarks/market/sketch.py) runs and scores."""

from benchmarks.market import sketch


def test_the_shipped_rules_gain_over_static_and_less_than_the_oracle():
    share = sketch.shares(({}, [1]))
    assert share.shape == (1,)
    assert 0 < share[0] < 1


def test_a_sure_cut_cuts_less_often_on_the_same_market():
    plain = sketch.run_rules(sketch.market(1))
    sure = sketch.run_rules(sketch.market(1), cut_sure=90)
    cuts = [sum(a.kind == "cut" for a in actions) for actions in (plain, sure)]
    assert cuts[1] < cuts[0]


def test_the_same_seed_scores_the_same():
    assert sketch.shares(({"cut_sure": 90}, [1]))[0] == sketch.shares(({"cut_sure": 90}, [1]))[0]
