"""The page: its view model, charts, per-channel recommendations, readings of metric values,
exports, and its views and URLs.

May read everything else in `constraints` and `sources`; nothing imports it but the project's
URLs, the management commands and the template tags.
"""
