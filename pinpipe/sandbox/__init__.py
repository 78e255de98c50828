"""The local stack: service definitions, the native process runner and the compose generator."""
