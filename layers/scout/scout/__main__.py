import sys

from scout.cli import main

sys.exit(main())
