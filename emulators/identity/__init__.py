"""OpenID Connect provider that plays Google and Microsoft for the demo and the tests (design.md section 6).

Run it with `python -m emulators.identity`, or in-process with `emulators.identity.testing.start_identity()`.
"""
