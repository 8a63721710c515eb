from perpspec.cli import main

main()
