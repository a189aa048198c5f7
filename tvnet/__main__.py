import sys

from tvnet.cli import main

sys.exit(main())
