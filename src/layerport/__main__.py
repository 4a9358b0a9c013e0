"""``python -m layerport`` runs the command line."""

from layerport.cli import main

main()
