"""The edges: one module per store, each translating its driver's errors into StoreError."""
