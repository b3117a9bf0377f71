"""mailadmin's own SMTP service (aiosmtpd): LDAP-authenticated submission and local delivery."""
