"""The directory layer: the only package that imports ldap3."""
