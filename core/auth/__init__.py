"""Authentication logic with injected clocks: TOTP and one-time codes, password hashing, lockout."""
