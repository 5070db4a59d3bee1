"""The only driver code: one folder or module per store (postgres/, redis/, mongo.py), each
translating its driver's errors into StoreError, and postgres/ and redis/ sliced per feature."""
