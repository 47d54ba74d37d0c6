import sys

from sage_sidecar.main import main

sys.exit(main())
