"""The CRM's rules, one module per area. Other domains call `identities` (link a channel
identity, find a customer by identity or phone) and `customers.customer_brief`."""
