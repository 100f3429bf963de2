import json
from decimal import Decimal
from html import escape

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from constraints.dashboard.charts import PLOTLY_JS
from constraints.dashboard.readings import Reading
from constraints.models import Rule

register = template.Library()


@register.simple_tag
def plotly_js() -> str:
    """The address of the one plotly.js bundle we ship, for pages outside the dashboard."""
    return static(PLOTLY_JS)


PERCENT_ACTIONS = {
    Rule.Action.RAISE_BUDGET: "Raise daily budget by {}%",
    Rule.Action.LOWER_BUDGET: "Lower daily budget by {}%",
    Rule.Action.SET_BUDGET: "Set daily budget to {}",
}
# What Django's json_script escapes, so that JSON can't close the <script> element.
JSON_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E"))


@register.filter
def action_words(rule: Rule) -> str:
    """'Raise daily budget by 20%', 'Set daily budget to 500', 'Pause'."""
    pattern = PERCENT_ACTIONS.get(rule.action)
    if pattern is None or rule.action_value is None:
        return rule.get_action_display()
    return pattern.format(_plain(rule.action_value))


def _plain(value: Decimal) -> str:
    """20.0000 → '20', 12.5000 → '12.5'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def figure_script(figure: dict, element_id: str) -> SafeString:
    """The same element as Django's json_script, escaped with str.replace: its str.translate
    took longer than encoding a page's figures."""
    text = json.dumps(figure, cls=DjangoJSONEncoder)
    for character, escaped in JSON_SCRIPT_ESCAPES:
        text = text.replace(character, escaped)
    return format_html('<script id="{}" type="application/json">{}</script>', element_id,
                       mark_safe(text))  # fmt: skip  # noqa: S308 (escaped above)


# The decision table's rows are built here rather than with template tags: 20 channels ×
# 9 cells of template lookups took a third of the page's render time, and the rows' own
# lookups another 15 %.
@register.filter
def decision_rows(rows: list) -> SafeString:
    """The dashboard's table body: per channel (page.ChannelRow) its name, recommendation and
    each driver's phone label and cells. The phone labels are the same on every row."""
    if not rows:
        return mark_safe("")  # noqa: S308
    labels = [phone_label(cells) for cells in rows[0].cells]
    return mark_safe("".join(_row(row, labels) for row in rows))  # noqa: S308


ROW = (
    '<tr>\n<th scope="row" class="col-channel">{}</th>\n<td class="col-advice">\n'
    '<span class="advice advice-{}"><span aria-hidden="true" class="advice-icon"></span>{}</span>\n'
    '<span class="advice-reason">{}</span>\n<span class="advice-basis">{}</span>\n</td>\n{}</tr>\n'
)


def _row(row, labels: list[SafeString]) -> str:
    advice = row.recommendation
    cells = "".join(
        f"{label}\n{driver_cells(cells)}\n" for label, cells in zip(labels, row.cells, strict=True)
    )
    name = row.channel.name if row.channel is not None else ""
    return ROW.format(
        escape(name), escape(advice.action), escape(advice.label), escape(advice.reason),
        escape(advice.basis_label), cells,
    )  # fmt: skip


@register.filter
def phone_label(cells: list[Reading]) -> SafeString:
    """A driver's name, target and direction, shown on phones before its cells."""
    metric = cells[0].metric
    return format_html(
        '<td class="phone-label" aria-hidden="true">{} <span>{} target · {}</span></td>',
        metric.label, cells[0].target_display, metric.get_direction_display().lower(),
    )  # fmt: skip


@register.filter
def driver_cells(cells: list[Reading]) -> SafeString:
    """A driver's cells of one channel: value, arrow and gap, and the verdict in words."""
    return mark_safe("".join(_cell(cell, first=i == 0) for i, cell in enumerate(cells)))  # noqa: S308


CELL = (
    '<td class="cell verdict-{}{}" data-value="{}" data-label="{}"><span class="cell-value">{}'
    '</span>{}<span class="visually-hidden">{}</span></td>'
)
CELL_TAG = '<span class="cell-tag" aria-hidden="true">{} {}</span>'
CELL_DOUBT = (
    '<span class="cell-doubt-note" title="{0}">⚠ data check'
    '<span class="visually-hidden">: {0}</span></span>'
)


def _cell(cell: Reading, *, first: bool) -> str:
    # html.escape is what Django's escape() calls; format_html's per-argument checks cost
    # more than the cell itself.
    tag = CELL_TAG.format(escape(cell.arrow), escape(cell.short_label)) if cell.short_label else ""
    doubt = " cell-doubt" if cell.doubt else ""
    if cell.doubt:
        tag += CELL_DOUBT.format(escape(cell.doubt))
    return CELL.format(
        escape(cell.verdict) + doubt, " group-start" if first else "", escape(cell.csv_value),
        escape(cell.window), escape(cell.display), tag, escape(cell.label),
    )  # fmt: skip
