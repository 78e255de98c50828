"""The pipeline's Databricks jobs: their definitions, and how `pinpipe deploy` applies them."""
