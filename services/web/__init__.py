"""The web pages: server-rendered NHS.UK frontend templates over the same
application and access policy as the API (services.access). This package holds
sign-in and sessions, the page layout and its static files; `pages.install` adds
them to the app."""
