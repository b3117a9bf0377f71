from mailadmin.cli import main

main()
