"""``python -m firetrace`` runs the command-line interface."""

from firetrace.cli import main

if __name__ == "__main__":
    main()
