# One image for every NI Academy process (LMS, migrate, grading worker, simulator + broker, JupyterHub):
# docker-compose.yml gives each service its command. See docs/compose.md.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NIA_ENV=production
# bubblewrap: the grading sandbox; mosquitto: the simulator service runs its own broker (virtual_lab/broker
# generates its config, password and ACL files and reloads them with SIGHUP); util-linux gives prlimit/setpriv.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap mosquitto mosquitto-clients util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
# JupyterHub's DockerSpawner is needed only by the hub container (NIA_HUB_SPAWNER=docker); pinned exactly and
# checked to resolve with jupyterhub 6.1.1 (`pip install --dry-run dockerspawner==14.0.0`).
RUN pip install --no-cache-dir dockerspawner==14.0.0 docker==7.2.0 escapism==1.1.0
COPY . .
# The UI translation catalogues are committed as .po; the image carries them compiled (as `make translations`).
RUN pybabel compile -d lms/translations
# Directories that become named volumes: created here so new volumes start owned by the nia user.
RUN useradd --create-home --uid 10001 nia \
 && mkdir -p /app/instance /app/var/lab /app/var/grading \
 && chown -R nia /app/instance /app/var
USER nia
EXPOSE 8470
# As `make run` (lms/launcher.py): one process per core, 4 threads each, a SO_REUSEPORT socket per process.
CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:8470 --worker-class gthread --workers \"${NIA_LMS_WORKERS:-$(nproc)}\" --threads \"${NIA_LMS_THREADS:-4}\" --reuse-port 'lms:create_app()'"]
