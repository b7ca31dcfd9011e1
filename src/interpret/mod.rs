//! Turning HTTP responses into per-item outcomes (being written).
