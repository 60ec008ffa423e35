"""vgreport: measure the vanishing-gradient problem of recurrent networks and report it."""
from .shipped import shipped_folder

__version__ = "0.1.0"
__all__ = ["__version__", "shipped_folder"]
