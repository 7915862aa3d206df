# qrscp archive image (used by docker-compose.yml). Wheels cover every native dependency
# (pylibjpeg codecs, psycopg binary), so no compiler or system library is needed.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY qrscp ./qrscp
COPY config ./config
RUN pip install --no-cache-dir . && mkdir -p /data /etc/qrscp && cp config/qrscp.toml /etc/qrscp/qrscp.toml

EXPOSE 11112
VOLUME ["/data"]
# SIGTERM (docker stop) lets C-STOREs in flight finish, then qrscp exits 0.
STOPSIGNAL SIGTERM
CMD ["qrscp", "serve", "--config", "/etc/qrscp/qrscp.toml", "--data-dir", "/data"]
