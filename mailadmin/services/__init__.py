"""Use cases: what the web app, the CLI and the SMTP service ask for, over the directory layer."""
