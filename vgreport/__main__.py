"""`python -m vgreport`: the same command line as the `vgreport` script."""
from .cli import main

if __name__ == "__main__":
    main(prog_name="vgreport")
