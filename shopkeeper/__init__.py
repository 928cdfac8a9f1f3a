"""shopkeeper: a perpetual inventory and point of sale for small shops."""

__version__ = "0.1.0"
