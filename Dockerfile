# factvault service image. torch is the CPU build (an unpinned torch pulls CUDA, several GB).
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 FACTVAULT_DATA_DIR=/data
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY ingest ./ingest
COPY migrations ./migrations
COPY samples ./samples
RUN pip install -e .
VOLUME /data
ENTRYPOINT ["factvault"]
