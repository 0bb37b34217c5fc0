"""run/config.py: the paper's protocol as train.py's defaults."""
from slotnp.run.config import default_weight_decay, paper_lr


def test_paper_learning_rates():
    assert paper_lr("greedy", 8) == 0.2 and paper_lr("greedy", 16) == 0.1
    assert paper_lr("sample", 2) == 25.0


def test_weight_decay_only_where_it_leaves_the_scores_alive():
    assert default_weight_decay("greedy") == 1e-4 and default_weight_decay(None) == 1e-4
    assert default_weight_decay("sample") == 0.0
