"""Who may watch what (docs/media.md, "Who may watch"). The one place that decides it."""
