"""qopt: run models compiled by qopt-compile from Python (numpy + ctypes)."""
from .runtime import Model, QOptError

__all__ = ["Model", "QOptError"]
