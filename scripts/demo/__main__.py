"""`python -m scripts.demo`: see scripts/demo/__init__.py."""

import sys

from scripts.demo.run import main

sys.exit(main())
