# The JupyterLab image DockerSpawner starts for each learner (docker-compose service `learner-image`, built with
# `docker compose --profile build build learner-image`): Jupyter's scipy stack plus what the lab notebooks import —
# the read-only `virtual_lab` package (client, replay, the embedded broker the security lab starts) and its MQTT
# libraries at the versions the platform pins. Nothing secret goes into this image: a learner's MQTT credentials
# arrive as environment variables when the hub starts their server.
FROM quay.io/jupyter/scipy-notebook:2024-12-09
COPY requirements.txt /tmp/nia-requirements.txt
RUN grep -E '^(paho-mqtt|amqtt)==' /tmp/nia-requirements.txt > /tmp/nia-lab-requirements.txt \
 && pip install --no-cache-dir -r /tmp/nia-lab-requirements.txt \
 && rm /tmp/nia-requirements.txt /tmp/nia-lab-requirements.txt
COPY --chown=root:root virtual_lab /opt/nia/virtual_lab
ENV PYTHONPATH=/opt/nia
