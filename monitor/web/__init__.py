"""`monitor web`: a small server-rendered application on the store, closed by default.

`settings` is the `web:` part of monitor.yaml (imported by `monitor.config`, so it
stays free of the web stack); `auth` checks logins, API tokens and CSRF tokens;
`queries` reads what the pages show; `app` builds the Starlette application with
its routes and templates; `server` runs it under uvicorn.
"""
