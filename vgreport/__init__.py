"""vgreport: measure the vanishing-gradient problem of recurrent networks and report it."""
__version__ = "0.1.0"
