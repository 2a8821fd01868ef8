"""Request and response models of the CRM, one module per area."""
