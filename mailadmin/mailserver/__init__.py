"""Postfix and Dovecot configurations generated from the running configuration, with checks."""
