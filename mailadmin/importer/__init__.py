"""Bulk import and export: parse -> validate -> plan (pure) -> apply (journaled) -> report."""
