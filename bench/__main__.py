"""`python -m bench`: every speed target in one command (pipeline, then stores and API);
`python -m bench pipeline|stores [options]` runs one of them."""

import sys

from bench import pipeline, stores

args = sys.argv[1:]
if args and args[0] in ("pipeline", "stores"):
    {"pipeline": pipeline.main, "stores": stores.main}[args[0]](args[1:])
else:
    pipeline.main(args)
    stores.main([a for a in args if a.startswith("--records")] or None)
