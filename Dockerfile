# One image for the LMS, the grading worker and the simulator service (different commands).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NIA_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap mosquitto-clients \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 nia && mkdir -p /app/instance /app/var && chown -R nia /app/instance /app/var
USER nia
EXPOSE 8470
CMD ["gunicorn", "--bind", "0.0.0.0:8470", "--worker-class", "gthread", "--workers", "3", "--threads", "8", "lms:create_app()"]
