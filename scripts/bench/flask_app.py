"""The Werkzeug peer for `make bench`: Flask's hello world, optionally
wrapped in Werkzeug's ProfilerMiddleware (what mod_reqprof is compared with).

BENCH_FLASK_MODE: plain      - no profiler
                  profile    - ProfilerMiddleware, no output (stream=None)
                  files      - ProfilerMiddleware writing one .prof per
                               request to BENCH_FLASK_DIR (stream=None)
Run under gunicorn: gunicorn --chdir scripts/bench flask_app:app
"""

import os

from flask import Flask
from werkzeug.middleware.profiler import ProfilerMiddleware

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello world\n"


_mode = os.environ.get("BENCH_FLASK_MODE", "plain")
if _mode == "profile":
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None)
elif _mode == "files":
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None,
                                      profile_dir=os.environ["BENCH_FLASK_DIR"])
elif _mode != "plain":
    raise SystemExit("unknown BENCH_FLASK_MODE %r" % _mode)
