"""Test a suggestion service against Katib's contract with generated adversarial experiments (needs hypothesis)."""
