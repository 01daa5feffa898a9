"""``python -m nbsweep``: the same as the ``nbsweep`` command."""

from nbsweep.cli import main

raise SystemExit(main())
