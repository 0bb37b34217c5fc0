"""The method: slot layers (K fixed options per connection, a score each, the selection rule
and its straight-through backward), edge-popup beside them, and the paper's networks."""
from . import nets
from .edge_popup import EdgePopupConv2d, EdgePopupLinear
from .slot import SCORE_FORMS, SELECTIONS, SlotConv2d, SlotLinear

__all__ = ["EdgePopupConv2d", "EdgePopupLinear", "SCORE_FORMS", "SELECTIONS",
           "SlotConv2d", "SlotLinear", "nets"]
