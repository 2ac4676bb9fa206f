"""The report stage: sessions, cycler data, the durable result store, tracking and the report.

DESIGN §7: ``cli → report → fitting → parsers → spectrum, errors``; nothing here is imported by
the layers below.
"""
