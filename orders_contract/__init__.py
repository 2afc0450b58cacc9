"""The `orders-contract` command line: one entry point wiring the codegen and contracts commands."""
