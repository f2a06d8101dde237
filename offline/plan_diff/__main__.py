"""`python -m offline.plan_diff`."""
import sys

from .cli import main

sys.exit(main())
