from qrscp.cli import main

raise SystemExit(main())
