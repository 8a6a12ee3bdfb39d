import sys

from pyporcupine.cli import main

sys.exit(main())
