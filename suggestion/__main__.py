"""`python -m katib_suggestion` runs the katib-suggest command."""

import sys

from katib_suggestion.cli import main

sys.exit(main())
