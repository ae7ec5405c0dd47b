"""Event sources of the local runtime: one module per AWS service that invokes functions."""
