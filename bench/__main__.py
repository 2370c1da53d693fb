from bench.pipeline import main

main()
