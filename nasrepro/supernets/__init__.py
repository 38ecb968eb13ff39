"""Weight-sharing supernets: single-path choice blocks (SPOS) and their standalone nets."""

from nasrepro.supernets.spos import SposConfig, SposNet, SposSupernet, extract_subnet

__all__ = ["SposConfig", "SposNet", "SposSupernet", "extract_subnet"]
