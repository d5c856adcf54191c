"""The eval sets and their runners. Product code never imports this package."""
