"""The dashboard's template filters write the same HTML the template tags would."""

from django.utils.html import json_script

from constraints.templatetags.dashboard import figure_script


def test_it_writes_figures_like_json_script():
    figure = {"data": [{"hovertemplate": "%{y}<extra>A & B </script></extra>", "y": [1.5, None]}]}
    assert figure_script(figure, "chart-cpa-data") == json_script(figure, "chart-cpa-data")
