"""slotnp: Slot Machines (Aladago & Torresani, ICLR 2021) in plain NumPy, or CuPy on a GPU."""
from . import backend, init, layers, losses, nets, optim, plain

__all__ = ["backend", "init", "layers", "losses", "nets", "optim", "plain"]
__version__ = "0.1.0"
