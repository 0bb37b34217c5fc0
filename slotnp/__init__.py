"""slotnp: Slot Machines (Aladago & Torresani, ICML 2021) in plain NumPy, or CuPy on a GPU.

  core/   the plain engine: layers with their backward, loss, SGD, the training loop
  slots/  the method: slot layers, edge-popup, the paper's networks
  fast/   the fast twins of core and slots pieces, used where switched on (core/twins.py)
  run/    what surrounds a run: configuration, checkpoints, export, plots, sweeps

Imports point one way: core <- slots <- fast, with run on top.
"""
from .core import backend, init, losses, optim, training, twins
from .slots import nets

__all__ = ["backend", "init", "losses", "nets", "optim", "training", "twins"]
__version__ = "0.1.0"
