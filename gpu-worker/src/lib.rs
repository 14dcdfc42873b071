//! Not built yet: see the gpu-worker issue.
