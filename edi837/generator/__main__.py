"""`python -m edi837.generator`: the generator's own command line."""
from . import main

raise SystemExit(main())
