from logquake.cli import main

main()
