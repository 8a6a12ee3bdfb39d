"""`python -m cluster.packets`: the NFQUEUE packet handler (handler.py)."""

import sys

from cluster.packets.handler import main

sys.exit(main())
