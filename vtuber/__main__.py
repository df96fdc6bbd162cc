import sys

from vtuber.cli import main

sys.exit(main())
