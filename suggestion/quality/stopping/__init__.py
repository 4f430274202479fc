"""The early-stopping benchmark: learning-curve problems, stopping arms, a simulated cluster, the table."""
