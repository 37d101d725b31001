"""`python bench/bulk OUT_FOLDER …`: generate a large synthetic company into a new workspace."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the folder holding this package, when run as a script

from bulk import main

raise SystemExit(main())
