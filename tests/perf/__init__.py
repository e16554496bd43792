"""Performance harness (issue 7): `python -m tests.perf.bench`.

Not collected by pytest (no `test_*.py` files here). Modules:

- `bench`: the entry point; builds the catalogs, starts the servers, drives the
  load, prints one Rich table and writes the figures as JSON;
- `datagen`: a deterministic N-row CSV generated from the real IMDb Top 1000;
- `baseline`: the minimal Starlette + asyncpg app (one SQL statement per request);
- `load`: the load drivers (`wrk` for the read endpoints, an httpx/asyncio
  client for the purchase path and the login bursts);
- `counting`: a launcher that serves an app with every asyncpg round trip
  counted per request (`X-Bench-SQL` response headers);
- `fixtures`: creates the benchmark users, carts and tokens through the
  product's own service layer (run in a subprocess, one database at a time).
"""
