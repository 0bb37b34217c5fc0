"""slotnp: Slot Machines (Aladago & Torresani, ICLR 2021) in plain NumPy, or CuPy on a GPU."""
from . import backend, init, layers, losses, nets, optim

__all__ = ["backend", "init", "layers", "losses", "nets", "optim"]
__version__ = "0.1.0"
