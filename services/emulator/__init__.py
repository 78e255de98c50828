"""The user-posting emulator: reads source rows and sends them as users' posts would arrive."""
