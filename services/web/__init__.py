"""The web pages: server-rendered NHS.UK frontend templates over the same
application and access policy as the API (services.access).

- `pages`: the layout, `render`, the pages' Content-Security-Policy, /static.
- `sessions`: the `SignedIn` dependency of a page, `start_session_for_email` (which
  every sign-in method ends with), sign-out; `session_store` keeps the sessions.
- `csrf`: the token every form carries.
- `signin`: sign-in by emailed link (`links`, `sign_in_mail`, `throttling`), the
  landing page, and `install`, which adds all of this to an app.
- `identity` and `people`: who an email signs in as, and the principal they act as.
"""
