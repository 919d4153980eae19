# Café 1913 in a container: the same requirements and the same entry script
# as a checkout (script/server). tests/test_packaging.py keeps this file in
# step with the repository, since Docker cannot run on our CI machines.
FROM python:3.11-slim-bookworm

# Stockfish from Debian: it lands in /usr/games, which is not on PATH;
# chessapp.engine looks there, and STOCKFISH_PATH makes it explicit.
RUN apt-get update \
    && apt-get install -y --no-install-recommends stockfish curl \
    && rm -rf /var/lib/apt/lists/*
ENV STOCKFISH_PATH=/usr/games/stockfish \
    CHESSAPP_DATA_DIR=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 1000 chess && mkdir /data && chown chess /data
WORKDIR /app
COPY requirements.txt pyproject.toml README.md ./
RUN python -m venv .venv && .venv/bin/pip install -r requirements.txt
COPY . .
# bootstrap stamps the venv, so script/server starts without reinstalling.
RUN script/bootstrap && chown -R chess /app
USER chess

EXPOSE 8501
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD curl -fsS http://localhost:8501/_stcore/health || exit 1
ENTRYPOINT ["script/server"]
# The same image is a Dask worker for `analyze --all --cluster tcp://HOST:8786`:
#   docker run --entrypoint script/dask-worker cafe1913 tcp://HOST:8786 --nworkers 4
# and a scheduler: docker run --entrypoint .venv/bin/dask -p 8786:8786 cafe1913 scheduler
