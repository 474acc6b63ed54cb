"""The dashboard's pages and form handlers, one module per area."""
