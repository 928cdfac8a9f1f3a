"""The Textual app: the stock room in the terminal. Start it with ``shopkeeper.tui.app.run_app``."""
