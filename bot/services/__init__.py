"""Domain services: plain values in, plain objects out, one transaction per use case."""
