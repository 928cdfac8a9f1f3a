"""The domain: plain Python, no Textual. The only code that writes to the database.

Every stock change goes through ``stock.post_movements``; every other service builds on it.
"""
