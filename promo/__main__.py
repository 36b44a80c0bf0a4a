from promo.cli import main

main()
