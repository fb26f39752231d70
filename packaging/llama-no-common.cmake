# Included into llama.cpp's CMake project when llama-cpp-python is built (see Makefile).
# The Python package never loads llama.cpp's `common` library (CLI helpers), so skipping it
# halves the build on 2 cores; generation, chat templates and state save/load are unaffected.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "" FORCE)
