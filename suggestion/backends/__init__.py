"""One module per optimisation library; each is imported only by a server that uses it."""
