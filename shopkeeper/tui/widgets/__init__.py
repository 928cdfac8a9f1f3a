"""Reusable widgets: the SQL-paged ``VirtualTable``, ``ScanInput``, the top bar."""
