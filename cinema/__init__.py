"""Cinema: an online-cinema backend on one Piccolo service layer.

Importing the package points Piccolo at `cinema.piccolo_conf` (unless the
caller chose another conf), so every front door finds the same engine.
"""

import os

os.environ.setdefault("PICCOLO_CONF", "cinema.piccolo_conf")

__version__ = "0.1.0"
