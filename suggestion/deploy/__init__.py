"""Installing katib-suggest into Katib: our katib-config entries and the merge into an existing katib-config."""
