"""Scan sources: evdev device reader, keyboard layouts, event decoder, evtest/evemu replay, terminal wedge.

Everything here except ``evdev_source`` works without the evdev C extension, and nothing imports Textual.
The rest of the app subscribes to a ``source.ScanHub`` and receives ``ScanEvent`` objects.
"""

from shopkeeper.scanner.events import ScanEvent, SourceStatus

__all__ = ["ScanEvent", "SourceStatus"]
