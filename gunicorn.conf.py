"""gunicorn settings of the web app: scripts/run.sh (`make run`) and the reliability tests load
this file (`gunicorn -c gunicorn.conf.py`; gunicorn also picks it up by itself from the current
directory). Options on the command line and in GUNICORN_CMD_ARGS take precedence.

Worker model (security review, finding 9, slow clients): gevent. Every connection is a greenlet,
not a process or thread, so slow clients cost little, and the gevent worker allows a client
`keepalive` seconds in all to send a request line and headers (and as much idle time between two
requests on a kept-alive connection); then it closes the connection. The sync worker (one
request per process) and gthread (one thread per connection from the request line until the
headers are complete, with no time limit) are held by a dozen or by a few dozen connections that
trickle header bytes. The app runs unchanged under gevent: database connections are taken per
request from SQLAlchemy's pool, psycopg waits cooperatively once gevent has patched the standard
library (the worker does that before it loads the app: do not turn on preload_app), and
threading.local becomes per greenlet.

Still recommended in production: a buffering reverse proxy (nginx) in front, which reads whole
requests before it passes them on and also bounds slow request bodies.
"""
import os

bind = os.environ.get("FF_BIND", "127.0.0.1:8000")
#: processes; CPU-bound work (a step of up to 15 s, PDF rendering) holds one worker's greenlets,
#: so at least 2, about one or two per core
workers = int(os.environ.get("FF_WORKERS", "2"))
worker_class = "gevent"
#: connections at once per worker (each open file needs a descriptor: keep below `ulimit -n`)
worker_connections = 1000
#: seconds for a request's line and headers, and idle seconds on a kept-alive connection; must
#: stay above 0, since with 0 the gevent worker sets no time limit for the headers
keepalive = 5
#: a worker that has not reported for this many seconds (CPU held too long) is restarted
timeout = 30
graceful_timeout = 30
#: bounds of the request line and headers (gunicorn's defaults, stated here)
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
