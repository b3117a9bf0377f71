"""Tests of mailadmin.certs (package so the test modules can share `factory`)."""
