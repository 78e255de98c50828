"""The source database of posts: schema, loading from files, and a calibrated generator."""
